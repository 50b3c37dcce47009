import { connect, type Socket } from 'node:net';

/** A raw TCP socket that records what came back and when the server ended it. */
export interface RawSocket {
  socket: Socket;
  /** Everything received so far, as latin1 text. */
  data(): string;
  /** Resolves once the socket closed (whoever closed it). */
  closed: Promise<void>;
  /** Resolves once the server ended its side or the socket closed. */
  ended: Promise<void>;
}

/**
 * Opens a socket to 127.0.0.1:`port` from `localAddress` and writes `send` once connected.
 * `halfOpen`: the client never closes its side by itself (as an attacker's socket would not).
 */
export function rawSocket(
  port: number,
  options: { localAddress?: string; send?: string; halfOpen?: boolean } = {},
): RawSocket {
  const socket = connect({
    port,
    host: '127.0.0.1',
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    allowHalfOpen: options.halfOpen ?? false,
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  if (options.send) socket.once('connect', () => socket.write(options.send!));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const ended = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  return { socket, data: () => text, closed, ended };
}

/** Resolves once the socket connected, or closed without connecting (refused, reset). */
export function settled(raw: RawSocket): Promise<void> {
  return new Promise((resolve) => {
    if (!raw.socket.connecting) return resolve();
    raw.socket.once('connect', () => resolve());
    raw.socket.once('close', () => resolve());
  });
}

/**
 * One `GET path` with `Connection: close` from `localAddress`; resolves with the status line
 * ('' when the server closed without answering, e.g. out of descriptors).
 */
export async function statusLine(port: number, path = '/health', localAddress?: string): Promise<string> {
  const raw = rawSocket(port, {
    send: `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ...(localAddress ? { localAddress } : {}),
  });
  await raw.closed;
  return raw.data().split('\r\n')[0] ?? '';
}
