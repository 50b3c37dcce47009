import { createServer, type Server, type Socket } from 'node:net';
import { closeWithGrace, listenOn } from '../line-listener.js';
import { createServer as createTlsServer } from 'node:tls';
import type { CloseReason, Connection, UserProfile } from '../../connection.js';
import type { Hub } from '../../hub.js';
import type { Admission } from '../../limits/admission.js';
import type { KeyedRateLimiters } from '../../limits/keyed.js';
import type { Logger } from '../../log.js';
import type { Outbound } from '../../outbound.js';
import type { Session } from '../../session.js';
import { gateConnections } from '../accept-gate.js';
import { forceCloseAfterGrace } from '../close-grace.js';
import { DrainWaiters } from '../drain-waiters.js';
import { pacerOptionsOf, type WritePacing } from '../flush-pacer.js';
import { LineReader } from '../tcp-lines.js';
import { writeFrames } from '../frame-scratch.js';
import { WriteCoalescer, type Flushable } from '../write-coalescer.js';
import { quitText } from './events.js';
import { addressBuckets, FakeLag, FLOOD_DEFAULTS, type FloodOptions } from './flood.js';
import { INVALID_UTF8, IrcSession, type IrcSessionOptions } from './irc-session.js';
import { formatMessage, MAX_CLIENT_TAG_BYTES, MAX_LINE_BYTES } from './message.js';
import { ircNick } from './names.js';
import { MonitorRegistry } from './monitor.js';
import { ERR } from './numerics.js';

/** Settings of the IRC door. */
export interface IrcTransportOptions extends WritePacing {
  /** The server's name in every server message (`--server-name`). */
  serverName: string;
  /** The message of the day, one string per line; none: 422. */
  motd?: string[];
  /** PEM certificate and key: the port speaks TLS (ircs). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Connection limits shared by every door (see accept-gate.ts). */
  admission?: Admission;
  log?: Logger;
  flood?: Partial<FloodOptions>;
  /** How long a request may stay unanswered before its command gives up. Default 10 s. */
  replyTimeoutMs?: number;
}

/** Marks an over-long line in the input queue (a real line never holds NUL: it is removed). */
const TOO_LONG = '\0too_long';

/**
 * One IRC client socket: bytes become lines (LineReader), lines pass flood control (FakeLag),
 * then the IrcSession, which holds the whole IRC client state and talks to the hub. Events out
 * that read the same for every member are rendered once per caps set (events.ts).
 */
class IrcClient implements Connection, Flushable {
  readonly transport = 'irc' as const;
  readonly remoteAddress: string;
  session!: Session;
  private closed = false;
  private readonly reader = new LineReader(MAX_CLIENT_TAG_BYTES + MAX_LINE_BYTES);
  private readonly irc: IrcSession;
  private readonly lag: FakeLag;
  private waiters: DrainWaiters | undefined;
  /** Bytes waiting for the coalescer's flush: shared renderings and this client's own lines. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly hub: Hub,
    options: IrcSessionOptions,
    flood: FloodOptions,
    addresses: KeyedRateLimiters,
    private readonly coalescer: WriteCoalescer<IrcClient>,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.irc = new IrcSession(
      {
        write: (text) => this.writeText(text),
        writeBytes: (bytes) => this.enqueue(bytes),
        dispatch: (message) => this.hub.dispatch(this.session, message),
        quit: (reason) =>
          this.session.run(() =>
            this.hub.disconnect(this.session, { code: 'quit', message: reason || 'quit' }),
          ),
      },
      options,
    );
    this.lag = new FakeLag(
      flood,
      addresses,
      this.remoteAddress,
      (line) => {
        if (line === TOO_LONG) this.irc.write(this.tooLong());
        else this.irc.input(line);
      },
      () => this.hub.disconnect(this.session, { code: 'flood', message: 'Excess Flood' }),
    );
  }

  start(session: Session): void {
    this.session = session;
    this.socket.on('data', (chunk: Buffer) => this.lag.push(this.linesOf(this.reader.push(chunk))));
    this.socket.on('end', () => {
      this.lag.push(this.linesOf(this.reader.end()));
      this.hub.gone(session);
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.waiters?.release();
      this.lag.stop();
      this.irc.stop();
      this.hub.gone(session);
    });
  }

  /** Lines as IRC reads them: CR alone ends a line too; NUL is dropped; blank lines are skipped. */
  private linesOf(events: ReturnType<LineReader['push']>): string[] {
    const out: string[] = [];
    for (const e of events) {
      if (e.kind === 'too_long') out.push(TOO_LONG);
      else
        for (const part of e.text.split('\r'))
          if (part.trim() !== '') out.push((e.invalidUtf8 ? INVALID_UTF8 : '') + part.replace(/\0/g, ''));
    }
    return out;
  }

  private tooLong(): string {
    return formatMessage({
      source: this.irc.options.serverName,
      command: ERR.INPUTTOOLONG,
      params: [this.irc.target, 'Input line was too long'],
    });
  }

  send(out: Outbound): number {
    if (this.closed) return 0;
    try {
      this.irc.receive(out);
    } catch {
      // A Connection must not throw into the room that is fanning out.
    }
    return this.bufferedBytes();
  }

  profile(): UserProfile | undefined {
    return this.irc.profile();
  }

  bufferedBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  drained(lowWater: number): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    return (this.waiters ??= new DrainWaiters(() => this.bufferedBytes(), this.socket)).wait(lowWater);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    // What was queued goes before the ERROR line (and before a slow consumer's socket is cut).
    this.coalescer.forget(this);
    this.flush();
    this.closed = true;
    this.waiters?.release();
    this.lag.stop();
    this.irc.stop();
    if (reason.code === 'slow_consumer') {
      this.socket.destroy();
      return;
    }
    const text =
      reason.code === 'quit'
        ? reason.message === 'quit'
          ? 'Quit'
          : `Quit: ${reason.message}`
        : reason.code === 'identify_timeout'
          ? 'Registration timeout'
          : reason.code === 'killed'
            ? quitText(reason.message, reason.by ?? '?')
            : reason.message;
    if (this.socket.writable)
      this.socket.end(formatMessage({ command: 'ERROR', params: [`Closing link: ${text}`] }));
    forceCloseAfterGrace(this.socket, () => this.socket.destroy());
  }

  private writeText(text: string): void {
    if (text.length > 0) this.enqueue(Buffer.from(text, 'utf8'));
  }

  /**
   * Queues bytes for the coalescer's flush. A shared rendering is queued as it is (the same
   * Buffer for every reader): no copy, no string conversion per member.
   */
  private enqueue(bytes: Buffer): void {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    // Marked exactly when the queue becomes non-empty: one Set insert per socket per flush.
    if (this.queue.push(bytes) === 1) this.coalescer.mark(this);
    this.queuedBytes += bytes.length;
  }

  /**
   * Writes the queue as one buffer in one write (see writeFrames): cheaper than a corked writev
   * of many small chunks, as the WebSocket door found.
   */
  flush(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    const bytes = this.queuedBytes;
    this.queuedBytes = 0;
    const open = !this.socket.destroyed && this.socket.writable;
    if (open) writeFrames(this.socket, queue, bytes);
    queue.length = 0;
    if (open) this.waiters?.check();
  }
}

/**
 * The chat nick IRC clients are shown as `name` (`a_b` for `a!b`: see ircNick), so a nick with
 * characters IRC cannot carry can still be messaged, kicked or looked up from IRC. Undefined
 * when no nick, or more than one, reads as `name`: a guess could reach the wrong person.
 */
export function shownAs(name: string, nicks: Iterable<string>): string | undefined {
  if (!name.includes('_')) return undefined;
  let found: string | undefined;
  for (const nick of nicks) {
    if (ircNick(nick) !== name) continue;
    if (found !== undefined) return undefined;
    found = nick;
  }
  return found;
}

/** The IRC door (`chat serve --irc-port N`, `--irc-tls-port N`): one IrcClient per socket. */
export class IrcTransport {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly coalescer: WriteCoalescer<IrcClient>;
  private readonly sessionOptions: IrcSessionOptions;
  private readonly flood: FloodOptions;
  private readonly addresses: KeyedRateLimiters;

  constructor(
    private readonly hub: Hub,
    options: IrcTransportOptions,
  ) {
    this.coalescer = new WriteCoalescer(pacerOptionsOf(options));
    this.flood = { ...FLOOD_DEFAULTS, ...options.flood };
    this.addresses = addressBuckets(this.flood);
    const monitors = new MonitorRegistry();
    hub.watchNicks((nick, online) => monitors.tell(nick, online));
    this.sessionOptions = {
      serverName: options.serverName,
      motd: options.motd,
      createdAt: new Date(),
      replyTimeoutMs: options.replyTimeoutMs ?? 10_000,
      counts: () => ({ users: hub.userCount, rooms: hub.roomCount }),
      online: (name: string) => hub.onlineNick(name) ?? shownAs(name, hub.nicksHere()),
      findNicks: (test, limit) => hub.nicksMatching(test, limit),
      whoAnswers: (names, rooms) => hub.whoAnswers(names, rooms),
      monitors,
      heldNicks: (names) => hub.heldNicks(names),
      onError: (err, context) => options.log?.error({ err }, context),
    };
    const socketOptions = { allowHalfOpen: true, noDelay: true };
    this.server = options.tls
      ? createTlsServer({ ...socketOptions, cert: options.tls.cert, key: options.tls.key }, (s) =>
          this.accept(s),
        )
      : createServer(socketOptions, (s) => this.accept(s));
    this.server.on('tlsClientError', () => {});
    if (options.admission && options.log)
      gateConnections(this.server, {
        admission: options.admission,
        log: options.log,
        door: options.tls ? 'ircs' : 'irc',
        ...(options.tls
          ? {}
          : {
              refusalText: (r) => formatMessage({ command: 'ERROR', params: [`Closing link: ${r.message}`] }),
            }),
      });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (!this.hub.isAccepting) {
      socket.end(formatMessage({ command: 'ERROR', params: ['Closing link: the server is shutting down'] }));
      forceCloseAfterGrace(socket, () => socket.destroy());
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setKeepAlive(true, 60_000);
    const client = new IrcClient(
      socket,
      this.hub,
      this.sessionOptions,
      this.flood,
      this.addresses,
      this.coalescer,
    );
    client.start(this.hub.connect(client));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  /** Open IRC connections. */
  get size(): number {
    return this.sockets.size;
  }

  /** Stops listening; sockets the hub ended get up to `graceMs` to flush, the rest are dropped. */
  close(graceMs = 2000): Promise<void> {
    return closeWithGrace(this.server, this.sockets, graceMs);
  }
}
