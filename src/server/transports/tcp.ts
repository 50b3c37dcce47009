import { createServer, type Server, type Socket } from 'node:net';
import { closeWithGrace, listenOn } from './line-listener.js';
import { createServer as createTlsServer } from 'node:tls';
import type { CloseReason, Connection } from '../connection.js';
import type { Hub } from '../hub.js';
import type { Outbound } from '../outbound.js';
import type { Session } from '../session.js';
import type { Admission } from '../limits/admission.js';
import type { Logger } from '../log.js';
import { gateConnections } from './accept-gate.js';
import { DrainWaiters } from './drain-waiters.js';
import { forceCloseAfterGrace } from './close-grace.js';
import { pacerOptionsOf, type WritePacing } from './flush-pacer.js';
import { TurnCork } from './turn-cork.js';
import { WriteCoalescer } from './write-coalescer.js';
import { LineSession } from './line-session.js';
import { tcpLinesOf, toWire } from './tcp-format.js';
import { LineReader } from './tcp-lines.js';

/** TCP line transport settings. */
export interface TcpTransportOptions extends WritePacing {
  /** Longest input line in bytes; a longer one is refused with an error and skipped. */
  maxLineBytes?: number;
  /** How long a request that changes the line state (nick, join, leave) may stay unanswered. */
  replyTimeoutMs?: number;
  /** PEM certificate and key: the port speaks TLS (`openssl s_client`, `ncat --ssl`). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /**
   * Connection limits shared by every door, applied to each socket as it is accepted (see
   * accept-gate.ts); a refusal is told in one line and closed.
   */
  admission?: Admission;
  /** Where accept failures are logged. */
  log?: Logger;
}

type Settings = Required<Pick<TcpTransportOptions, 'maxLineBytes' | 'replyTimeoutMs'>>;

/**
 * One nc/telnet socket: bytes in become lines (LineReader) for its LineSession, which holds the
 * whole line-mode client; the session's requests go to `hub.dispatch`, its text to the socket.
 * Events out are rendered once per event (`tcpLinesOf`) unless the session renders them itself.
 */
class TcpClient implements Connection {
  readonly transport = 'tcp' as const;
  readonly remoteAddress: string;
  session!: Session;
  private closed = false;
  private readonly reader: LineReader;
  private readonly lines: LineSession;
  /** Created by the first `drained` call: most connections never wait. */
  private waiters: DrainWaiters | undefined;
  private readonly cork: TurnCork;

  constructor(
    private readonly socket: Socket,
    private readonly hub: Hub,
    options: Settings,
    coalescer: WriteCoalescer<TurnCork>,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.reader = new LineReader(options.maxLineBytes);
    this.cork = new TurnCork(socket, coalescer, () => this.waiters?.check());
    this.lines = new LineSession(
      {
        write: (text) => this.writeBytes(Buffer.from(text, 'utf8')),
        dispatch: (message) => this.hub.dispatch(this.session, message),
        // `/quit` is the same `quit` request a WebSocket client sends: members see the reason.
        // Input that ended without one reads as a dropped link.
        quit: (goodbye) =>
          goodbye
            ? this.hub.dispatch(this.session, { type: 'quit', payload: goodbye })
            : this.session.run(() =>
                this.hub.disconnect(this.session, { code: 'client_closed', message: 'input ended' }),
              ),
        reading: (on) => (on ? this.socket.resume() : this.socket.pause()),
      },
      { replyTimeoutMs: options.replyTimeoutMs, defaultRoom: hub.defaultRoom },
    );
  }

  start(session: Session): void {
    this.session = session;
    this.lines.start();
    this.socket.on('data', (chunk: Buffer) => this.lines.input(this.reader.push(chunk)));
    this.socket.on('end', () => this.lines.endInput(this.reader.end()));
    this.socket.on('error', () => {
      // A reset peer; 'close' follows and cleans up.
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiters?.release();
      this.lines.stop();
      this.hub.gone(session);
    });
  }

  send(out: Outbound): number {
    if (this.closed) return 0;
    try {
      this.lines.receive(out.message, () => this.writeBytes(tcpLinesOf(out)));
    } catch {
      // A Connection must not throw into the room that is fanning out.
    }
    return this.bufferedBytes();
  }

  bufferedBytes(): number {
    return this.socket.writableLength;
  }

  drained(lowWater: number): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    return (this.waiters ??= new DrainWaiters(() => this.bufferedBytes(), this.socket)).wait(lowWater);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.waiters?.release();
    this.lines.stop();
    if (reason.code === 'slow_consumer') {
      // Its socket is backed up; a goodbye line would queue behind everything else.
      this.socket.destroy();
      return;
    }
    // A shutdown was announced by its own event already; the hub's identify timeout speaks of `hello`.
    const text =
      reason.code === 'client_closed' || reason.code === 'quit'
        ? ['*** bye']
        : reason.code === 'shutdown'
          ? []
          : reason.code === 'identify_timeout'
            ? ['*** no nick given in time; bye']
            : [`*** ${reason.message}`];
    this.socket.end(toWire(text));
    // A peer that never closes its side must not linger; one that does needs no timer.
    forceCloseAfterGrace(this.socket, () => this.socket.destroy());
  }

  /** Writes go out corked and are flushed together once this turn's events are queued. */
  private writeBytes(bytes: Buffer): void {
    if (bytes.length === 0 || this.socket.destroyed || !this.socket.writable) return;
    this.cork.write(bytes);
  }
}

/** The plain TCP door (`chat serve --tcp-port N`): one TcpClient per socket. */
export class TcpTransport {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly settings: Settings;
  /** Flushes the corked sockets: one write per socket per turn, spaced out under load. */
  private readonly coalescer: WriteCoalescer<TurnCork>;

  constructor(
    private readonly hub: Hub,
    options: TcpTransportOptions = {},
  ) {
    this.settings = {
      maxLineBytes: options.maxLineBytes ?? 16 * 1024,
      replyTimeoutMs: options.replyTimeoutMs ?? 10_000,
    };
    this.coalescer = new WriteCoalescer(pacerOptionsOf(options));
    const socketOptions = { allowHalfOpen: true, noDelay: true };
    this.server = options.tls
      ? createTlsServer({ ...socketOptions, cert: options.tls.cert, key: options.tls.key }, (socket) =>
          this.accept(socket),
        )
      : createServer(socketOptions, (socket) => this.accept(socket));
    // A failed TLS handshake or a reset before accept is the peer's problem, not the server's.
    this.server.on('tlsClientError', () => {});
    if (options.admission && options.log)
      gateConnections(this.server, {
        admission: options.admission,
        log: options.log,
        door: 'tcp',
        ...(options.tls ? {} : { refusalText: (r) => toWire([`*** error: ${r.message}`]) }),
      });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (!this.hub.isAccepting) {
      socket.end(toWire(['*** error: the server is shutting down']));
      forceCloseAfterGrace(socket, () => socket.destroy());
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setKeepAlive(true, 60_000);
    const client = new TcpClient(socket, this.hub, this.settings, this.coalescer);
    client.start(this.hub.connect(client));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  /** Number of open TCP connections. */
  get size(): number {
    return this.sockets.size;
  }

  /**
   * Stops listening, gives sockets the hub has ended up to `graceMs` to flush their last lines,
   * then drops whatever is left.
   */
  close(graceMs = 2000): Promise<void> {
    return closeWithGrace(this.server, this.sockets, graceMs);
  }
}
