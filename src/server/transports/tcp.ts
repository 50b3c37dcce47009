import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { decodeClientValue } from '../../protocol/codec.js';
import { helpLines, parseLine, type Command } from '../../protocol/commands.js';
import type { ServerMessage } from '../../protocol/events.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import type { ClientMessage } from '../../protocol/schema.js';
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
import { dmLines, messageLines, renderLines, tcpLinesOf, toWire } from './tcp-format.js';
import { LineReader, type LineEvent } from './tcp-lines.js';

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

const PROMPT = 'nick: ';
const PASSWORD_PROMPT = 'password: ';
const GREETING = '*** welcome to chat; pick a nick.';

/** Requests whose answer changes how the following lines are read; input waits for them. */
type Gate = {
  ref: string;
  kind: 'hello' | 'join' | 'leave' | 'nick';
  room?: string;
  nick?: string;
  withPassword?: boolean;
  timer: NodeJS.Timeout;
};

/**
 * One nc/telnet client. Bytes in become lines (see LineReader); a line is a nick answer until
 * the hub welcomes the connection, then a message for the current room or a slash command
 * parsed by the shared `parseLine`. Every request goes through `decodeClientValue` and
 * `hub.dispatch`, so the rules are the WebSocket ones. Events out are rendered once per event.
 */
class TcpClient implements Connection {
  readonly transport = 'tcp' as const;
  readonly remoteAddress: string;
  session!: Session;
  private nick: string | undefined;
  /** A registered nick was asked for: the next line is its password. */
  private passwordFor: string | undefined;
  /** Rooms joined, oldest first; `current` is where a plain line goes. */
  private readonly joined: string[] = [];
  private current: string | undefined;
  private gate: Gate | undefined;
  /** The filter of the last `/rooms`, and where its next page starts (`/rooms more`). */
  private roomsFilter: string | undefined;
  private roomsNext: { cursor: string; filter?: string } | undefined;
  private readonly queue: LineEvent[] = [];
  private refs = 0;
  private inputEnded = false;
  private closed = false;
  /** Refs of requests sent and not answered yet: `/quit` waits for them so no answer is lost. */
  private readonly awaiting = new Set<string>();
  /** `/show` requests in flight: their ref and the seq asked for. */
  private readonly shows = new Map<string, number>();
  /** `/quit` (or the end of input) arrived while answers were outstanding. */
  private quitTimer: NodeJS.Timeout | undefined;
  private readonly reader: LineReader;
  /** Created by the first `drained` call: most connections never wait. */
  private waiters: DrainWaiters | undefined;
  private readonly cork: TurnCork;

  constructor(
    private readonly socket: Socket,
    private readonly hub: Hub,
    private readonly options: Settings,
    coalescer: WriteCoalescer<TurnCork>,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.reader = new LineReader(options.maxLineBytes);
    this.cork = new TurnCork(socket, coalescer, () => this.waiters?.check());
  }

  start(session: Session): void {
    this.session = session;
    this.write(`${GREETING}\r\n${PROMPT}`);
    this.socket.on('data', (chunk: Buffer) => {
      this.queue.push(...this.reader.push(chunk));
      this.pump();
    });
    this.socket.on('end', () => {
      // The client closed its sending side (`printf 'alice\nhi\n' | nc -N`): finish its lines, then quit.
      this.inputEnded = true;
      this.queue.push(...this.reader.end());
      this.pump();
    });
    this.socket.on('error', () => {
      // A reset peer; 'close' follows and cleans up.
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiters?.release();
      this.clearTimers();
      this.hub.gone(session);
    });
  }

  // ---- Connection --------------------------------------------------------------------------

  send(out: Outbound): void {
    if (this.closed) return;
    try {
      const message = out.message;
      const gateReply = this.gate !== undefined && message.ref === this.gate.ref;
      if (message.type === 'rooms') {
        // Where `/rooms more` picks up: the filter asked for and the cursor the page ended at.
        const next = message.payload.next_cursor;
        this.roomsNext = next !== undefined ? { cursor: next, ...(this.roomsFilter !== undefined ? { filter: this.roomsFilter } : {}) } : undefined;
      }
      const own = this.ownRendering(message);
      if (own !== undefined) this.write(own);
      else this.writeBytes(tcpLinesOf(out));
      if (gateReply) this.settleGate(message);
      if (
        typeof message.ref === 'string' &&
        this.awaiting.delete(message.ref) &&
        this.awaiting.size === 0 &&
        this.quitTimer
      ) {
        this.finishQuit();
      }
    } catch {
      // A Connection must not throw into the room that is fanning out.
    }
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
    this.clearTimers();
    if (reason.code === 'slow_consumer') {
      // Its socket is backed up; a goodbye line would queue behind everything else.
      this.socket.destroy();
      return;
    }
    // A shutdown was announced by its own event already; the hub's identify timeout speaks of `hello`.
    const text =
      reason.code === 'client_closed'
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

  // ---- output ------------------------------------------------------------------------------

  /** Renderings that depend on who reads them (never shared, so never cached on the event). */
  private ownRendering(message: ServerMessage): string | undefined {
    switch (message.type) {
      case 'dm':
        return toWire(dmLines(message.payload, this.nick));
      case 'user_left':
        return message.payload.user_name === this.nick
          ? toWire([`*** you left #${message.payload.room_id}`])
          : undefined;
      case 'nick_changed':
        // You get your own rename as a reply already; the per-room copies would repeat it.
        return message.payload.room_id !== undefined && message.payload.user_name === this.nick
          ? ''
          : undefined;
      case 'history': {
        const seq = typeof message.ref === 'string' ? this.shows.get(message.ref) : undefined;
        if (seq === undefined) return undefined;
        this.shows.delete(message.ref as string);
        const found = message.payload.messages.find((m) => m.seq === seq);
        return toWire(found ? messageLines(found, true) : [`*** no message ${seq} in #${sanitizeText(message.payload.room_id)} (not there, or no longer kept)`]);
      }
      case 'error':
        if (typeof message.ref === 'string') this.shows.delete(message.ref);
        // A refused nick answer: settleGate says why and asks again.
        return this.gate?.kind === 'hello' && message.ref === this.gate.ref ? '' : undefined;
      default:
        return undefined;
    }
  }

  private write(text: string): void {
    if (text !== '') this.writeBytes(Buffer.from(text, 'utf8'));
  }

  /** Writes go out corked and are flushed together once this turn's events are queued. */
  private writeBytes(bytes: Buffer): void {
    if (bytes.length === 0 || this.socket.destroyed || !this.socket.writable) return;
    this.cork.write(bytes);
  }

  private info(...lines: string[]): void {
    // Notices may quote what the client typed; nothing it typed is echoed back as a control.
    this.write(toWire(lines.map((l) => `*** ${sanitizeText(l)}`)));
  }

  // ---- input -------------------------------------------------------------------------------

  /** Handles queued lines until one needs an answer first; then input waits (and reading pauses). */
  private pump(): void {
    while (!this.gate && !this.closed && this.queue.length > 0) this.handle(this.queue.shift()!);
    if (this.closed) return;
    if (this.gate) this.socket.pause();
    else {
      this.socket.resume();
      if (this.inputEnded && this.queue.length === 0) this.quit();
    }
  }

  private handle(event: LineEvent): void {
    if (event.kind === 'too_long') {
      this.info(`error: line too long (over ${event.limit} bytes); it was discarded`);
      return;
    }
    const line = event.text;
    if (this.nick === undefined) this.handleNickAnswer(line);
    else this.handleChatLine(line);
  }

  private handleNickAnswer(line: string): void {
    const registered = this.passwordFor;
    if (registered !== undefined) {
      this.passwordFor = undefined;
      if (line.trim() === '') return this.write(PROMPT);
      return this.hello(registered, line.trim());
    }
    const words = line
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    if (words.length === 0) return this.write(PROMPT);
    if (words[0]!.startsWith('/')) {
      const parsed = parseLine(line.trim());
      if (parsed.kind === 'command' && parsed.command.name === 'quit') return this.quit();
      if (parsed.kind === 'command' && parsed.command.name === 'help') return this.help(parsed.command.topic);
      this.info('pick a nick first');
      return this.write(PROMPT);
    }
    if (words.length > 1) {
      this.info('error: a nick cannot contain spaces');
      return this.write(PROMPT);
    }
    this.hello(words[0]!, undefined);
  }

  private hello(name: string, password: string | undefined): void {
    const ref = this.nextRef();
    const payload = { user_name: name, ...(password !== undefined ? { password } : {}) };
    const sent = this.request(
      { type: 'hello', payload, ref },
      { ref, kind: 'hello', nick: name, withPassword: password !== undefined },
    );
    if (!sent) this.write(PROMPT);
  }

  private handleChatLine(line: string): void {
    const parsed = parseLine(line);
    switch (parsed.kind) {
      case 'error':
        return this.info(`error: ${parsed.message}`);
      case 'text':
        if (parsed.text.trim() === '') return;
        if (this.current === undefined) return this.info('error: you are in no room; /join one');
        this.request({ type: 'message', payload: { room_id: this.current, message: parsed.text } });
        return;
      case 'command':
        return this.command(parsed.command);
    }
  }

  private command(c: Command): void {
    switch (c.name) {
      case 'join': {
        if (this.joined.includes(c.room)) {
          this.current = c.room;
          return this.info(`now talking in #${c.room}`);
        }
        const ref = this.nextRef();
        this.request(
          { type: 'join', payload: { room_id: c.room }, ref },
          { ref, kind: 'join', room: c.room },
        );
        return;
      }
      case 'leave': {
        const room = c.room ?? this.current;
        if (room === undefined) return this.info('error: you are in no room');
        const ref = this.nextRef();
        this.request({ type: 'leave', payload: { room_id: room }, ref }, { ref, kind: 'leave', room });
        return;
      }
      case 'users': {
        const room = c.room ?? this.current;
        if (room === undefined) return this.info('error: you are in no room; /users <room>');
        this.request({ type: 'users', payload: { room_id: room } });
        return;
      }
      case 'rooms': {
        if (c.more && this.roomsNext === undefined) return this.info('no more rooms to list; /rooms [filter] starts again');
        const query = c.more ? this.roomsNext! : c.filter !== undefined ? { filter: c.filter } : {};
        this.roomsFilter = query.filter;
        this.request({ type: 'rooms', payload: query });
        return;
      }
      case 'msg':
        this.request({ type: 'dm', payload: { to: c.to, message: c.text } });
        return;
      case 'nick': {
        const ref = this.nextRef();
        this.request({ type: 'nick', payload: { user_name: c.nick }, ref }, { ref, kind: 'nick' });
        return;
      }
      case 'register':
        this.request({ type: 'register', payload: { password: c.password } });
        return;
      case 'show': {
        // The one message at that seq, rendered whole when its page comes back (ownRendering).
        const ref = this.nextRef();
        this.shows.set(ref, c.seq);
        this.request({ type: 'history', payload: { room_id: c.room, before_seq: c.seq + 1, limit: 1 }, ref });
        return;
      }
      case 'help':
        return this.help(c.topic);
      case 'quit':
        return this.quit();
    }
  }

  private help(topic: string | undefined): void {
    const lines = helpLines(topic);
    this.info(
      ...(topic === undefined
        ? ['commands (a line without / is a message to the current room):', ...lines.map((l) => `  ${l}`)]
        : lines),
    );
  }

  /** Ends the session once the requests before it were handled (a `/register` then `/quit` gets its answer). */
  private quit(): void {
    if (this.awaiting.size === 0) return this.finishQuit();
    // Messages, /users and /msg are answered by room actors and the store a turn or more later.
    if (this.quitTimer === undefined) {
      this.quitTimer = setTimeout(() => this.finishQuit(), this.options.replyTimeoutMs);
      this.quitTimer.unref();
    }
  }

  private finishQuit(): void {
    if (this.quitTimer !== undefined) clearTimeout(this.quitTimer);
    this.session.run(() => this.hub.disconnect(this.session, { code: 'client_closed', message: 'quit' }));
  }

  /**
   * Validates a request exactly as a WebSocket frame would be and hands it to the hub. With a
   * gate, later input waits for the answer. Returns false when validation refused it.
   */
  private request(
    raw: { type: ClientMessage['type']; payload: unknown; ref?: string },
    gate?: Omit<Gate, 'timer'>,
  ): boolean {
    // Every request carries a ref, so `/quit` can wait for its answer (see `awaiting`).
    const ref = raw.ref ?? this.nextRef();
    const decoded = decodeClientValue({ ...raw, ref });
    if (!decoded.ok) {
      this.info(`error: ${decoded.error.message}`);
      return false;
    }
    this.awaiting.add(ref);
    if (gate) {
      const timer = setTimeout(() => this.settleGate(undefined), this.options.replyTimeoutMs);
      timer.unref();
      this.gate = { ...gate, timer };
    }
    this.hub.dispatch(this.session, decoded.message);
    return true;
  }

  /** The answer to the gating request arrived (or it timed out): update state, resume input. */
  private settleGate(reply: ServerMessage | undefined): void {
    const gate = this.gate;
    if (!gate) return;
    this.gate = undefined;
    clearTimeout(gate.timer);
    if (reply?.type === 'welcome') {
      this.nick = reply.payload.user_name;
      const ref = this.nextRef();
      this.request(
        { type: 'join', payload: { room_id: this.hub.defaultRoom }, ref },
        { ref, kind: 'join', room: this.hub.defaultRoom },
      );
    } else if (reply?.type === 'joined') {
      if (!this.joined.includes(reply.payload.room_id)) this.joined.push(reply.payload.room_id);
      this.current = reply.payload.room_id;
    } else if (reply?.type === 'user_left' && gate.room !== undefined) {
      this.forget(gate.room);
    } else if (reply?.type === 'nick_changed') {
      this.nick = reply.payload.user_name;
    } else if (gate.kind === 'hello' && this.nick === undefined) {
      // Refused (or unanswered): a registered nick gets a password prompt, anything else a new nick prompt.
      if (
        reply?.type === 'error' &&
        reply.payload.code === 'nick_registered' &&
        !gate.withPassword &&
        gate.nick !== undefined
      ) {
        this.passwordFor = gate.nick;
        this.info(`${gate.nick} is registered; type its password (an empty line picks another nick)`);
        this.write(PASSWORD_PROMPT);
      } else {
        if (reply?.type === 'error') this.write(toWire(renderLines(reply)));
        this.write(PROMPT);
      }
    }
    // Let the reply's bytes go out before the next queued line is handled.
    setImmediate(() => this.pump());
  }

  private forget(room: string): void {
    const i = this.joined.indexOf(room);
    if (i !== -1) this.joined.splice(i, 1);
    if (this.current !== room) return;
    this.current = this.joined[this.joined.length - 1];
    this.info(
      this.current === undefined ? 'you are in no room now; /join one' : `now talking in #${this.current}`,
    );
  }

  private nextRef(): string {
    return `tcp${++this.refs}`;
  }

  private clearTimers(): void {
    if (this.gate) clearTimeout(this.gate.timer);
    if (this.quitTimer !== undefined) clearTimeout(this.quitTimer);
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
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Number of open TCP connections. */
  get size(): number {
    return this.sockets.size;
  }

  /**
   * Stops listening, gives sockets the hub has ended up to `graceMs` to flush their last lines,
   * then drops whatever is left.
   */
  async close(graceMs = 2000): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.sockets.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        timer.unref();
        const check = (): void => {
          if (this.sockets.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
        for (const socket of this.sockets) socket.once('close', () => setImmediate(check));
      });
    }
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }
}
