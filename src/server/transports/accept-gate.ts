import type { Server, Socket } from 'node:net';
import type { Admission, Refusal } from '../limits/admission.js';
import type { Logger } from '../log.js';

/** Sockets being told "no" at once; past this many, further refusals are cut without a word. */
export const MAX_REFUSING = 64;

/** How long a refused peer has to read the refusal and close before it is cut. */
export const REFUSAL_GRACE_MS = 1000;

/** How often an accept failure (EMFILE, ENFILE) is logged at most; the rest are counted. */
const ACCEPT_ERROR_LOG_MS = 5000;

/** Settings of {@link gateConnections}. */
export interface AcceptGateOptions {
  admission: Admission;
  log: Logger;
  /** The door's name in log lines (`http`, `tcp`). */
  door: string;
  /**
   * The bytes that tell a refused peer why, in the door's own language (an HTTP response, a
   * text line). Undefined for TLS: before its handshake the peer understands nothing we could
   * write, so it is only closed.
   */
  refusalText?(refusal: Refusal): string;
}

/**
 * Puts admission in front of every socket a listener accepts, whatever it turns out to carry
 * (an HTTP request, an SSE stream, a POST, a WebSocket upgrade, a TCP line client): the socket
 * is counted against the per-address and server-wide caps before any parser sees it, and
 * released when it closes. One address therefore cannot hold more than `--max-per-ip` sockets
 * of any kind, and the whole server never holds more than `--max-clients`, which is sized from
 * the open-file limit (see fd-limit.ts).
 *
 * It takes over the server's own `connection` listeners (http's parser, tls's handshake, the TCP
 * door's accept) and calls them only for admitted sockets, so it must be called after the server
 * is constructed and before it listens.
 *
 * Accept errors (EMFILE/ENFILE when descriptors run out anyway, e.g. through exempt addresses)
 * are logged, at most every few seconds, and never thrown: libuv already drops the pending
 * connection with its reserve descriptor and keeps polling, so accepting resumes by itself once
 * descriptors are free again.
 */
export function gateConnections(server: Server, options: AcceptGateOptions): void {
  const inner = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  let refusing = 0;
  server.on('connection', (socket: Socket) => {
    // Before anything else: a reset peer must not become an uncaught 'error'.
    socket.on('error', ignore);
    const address = socket.remoteAddress ?? 'unknown';
    const refusal = options.admission.admit(address);
    if (refusal === undefined) {
      socket.once('close', () => options.admission.release(address));
      for (const listener of inner) listener.call(server, socket);
      return;
    }
    const text = options.refusalText?.(refusal);
    if (text === undefined || refusing >= MAX_REFUSING) {
      socket.destroy();
      return;
    }
    // A refused socket holds a descriptor until it is gone: bounded in number and in time.
    refusing++;
    const timer = setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
    socket.once('close', () => {
      refusing--;
      clearTimeout(timer);
    });
    // Read and drop what the peer sent, so closing does not turn into a reset that would
    // discard the refusal before the peer reads it.
    socket.resume();
    socket.end(text);
  });

  let lastLogged = 0;
  let unlogged = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    // Before listening, an error is listen's own (EADDRINUSE): its caller handles it.
    if (!server.listening) return;
    const now = Date.now();
    if (now - lastLogged < ACCEPT_ERROR_LOG_MS) {
      unlogged++;
      return;
    }
    options.log.warn(
      { err, door: options.door, since_last: unlogged },
      err.code === 'EMFILE' || err.code === 'ENFILE'
        ? 'out of file descriptors: new connections are dropped until some close (lower --max-clients or raise ulimit -n)'
        : 'accepting a connection failed',
    );
    lastLogged = now;
    unlogged = 0;
  });
}

/** An HTTP refusal (status, JSON body, close), readable by a browser, curl or a WebSocket client. */
export function httpRefusal(refusal: Refusal): string {
  const body = JSON.stringify({ error: refusal.code, message: refusal.message });
  const reason =
    refusal.status === 429
      ? 'Too Many Requests'
      : refusal.status === 403
        ? 'Forbidden'
        : 'Service Unavailable';
  return (
    `HTTP/1.1 ${refusal.status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function ignore(): void {}
