import { decodeClientValue } from '../../protocol/codec.js';
import {
  commandAction,
  helpLines,
  parseLine,
  type Command,
  type CommandRequest,
} from '../../protocol/commands.js';
import type { ServerMessage } from '../../protocol/events.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import type { ClientMessage } from '../../protocol/schema.js';
import { dmLines, messageLines, renderLines, toWire } from './tcp-format.js';
import type { LineEvent } from './tcp-lines.js';

/** What a line session drives: it never sees a socket, only these. */
export interface LineSessionPort {
  /** Text for the client, already in wire form (CRLF line endings). */
  write(text: string): void;
  /** A validated request for the hub. */
  dispatch(message: ClientMessage): void;
  /**
   * The client is done: end the connection. `goodbye` is set for `/quit [reason]` (others see a
   * quit with the reason); undefined when the input just ended without one (a dropped link).
   */
  quit(goodbye: { reason?: string } | undefined): void;
  /** False while input waits for an answer (the adapter stops reading), true when it may go on. */
  reading(on: boolean): void;
}

/** Line session settings. */
export interface LineSessionOptions {
  /** How long a request that changes the line state (nick, join, leave) may stay unanswered. */
  replyTimeoutMs: number;
  /** The room a client is put in once it has a nick. */
  defaultRoom: string;
}

export const PROMPT = 'nick: ';
/** Users whose last quit or away state a line session remembers, to show it once. */
const PRESENCE_REMEMBERED = 512;
export const PASSWORD_PROMPT = 'password: ';
export const GREETING = '*** welcome to chat; pick a nick.';

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
 * The line-mode client of the TCP door (nc, telnet), without the socket: lines in, requests and
 * text out. A line is a nick answer until the hub welcomes the connection, then a message for the
 * current room or a slash command from the shared table (`commandAction` says which request it
 * sends). Every request goes through `decodeClientValue`, so the rules are the WebSocket ones.
 * While a request that changes how lines are read (hello, join, leave, nick) is unanswered, input
 * waits.
 */
export class LineSession {
  private nick: string | undefined;
  /** A registered nick was asked for: the next line is its password. */
  private passwordFor: string | undefined;
  /** Rooms joined, oldest first; `current` is where a plain line goes. */
  private readonly joined: string[] = [];
  private current: string | undefined;
  private gate: Gate | undefined;
  /** Where `/rooms more` picks up: the filter of the last `/rooms` and the cursor its page ended at. */
  private roomsFilter: string | undefined;
  private roomsNext: { cursor: string; filter?: string } | undefined;
  private readonly queue: LineEvent[] = [];
  private refs = 0;
  private inputEnded = false;
  private stopped = false;
  /** Refs of requests sent and not answered yet: `/quit` waits for them so no answer is lost. */
  private readonly awaiting = new Set<string>();
  /** `/show` requests in flight: their ref and the seq asked for. */
  private readonly shows = new Map<string, number>();
  /** `/quit` (or the end of input) arrived while answers were outstanding. */
  private quitTimer: NodeJS.Timeout | undefined;
  /** What `/quit` said (its reason validated); undefined while the client has not said goodbye. */
  private goodbye: { reason?: string } | undefined;
  /**
   * What was last shown of each user's quit or away state: both reach every room the user was in,
   * and a reader sharing several of them is told once. A join or rename of the nick forgets it.
   */
  private readonly presenceShown = new Map<string, string>();

  constructor(
    private readonly port: LineSessionPort,
    private readonly options: LineSessionOptions,
  ) {}

  /** Greets the client and asks for a nick. */
  start(): void {
    this.port.write(`${GREETING}\r\n${PROMPT}`);
  }

  /** Lines (or too-long notices) read from the client. */
  input(events: LineEvent[]): void {
    this.queue.push(...events);
    this.pump();
  }

  /** The client closed its sending side (`printf 'alice\nhi\n' | nc -N`): finish its lines, then quit. */
  endInput(events: LineEvent[] = []): void {
    this.inputEnded = true;
    this.input(events);
  }

  /** The connection is gone or closing: no more input, no timers. */
  stop(): void {
    this.stopped = true;
    if (this.gate) clearTimeout(this.gate.timer);
    if (this.quitTimer !== undefined) clearTimeout(this.quitTimer);
  }

  /**
   * An event for this client. Events that read the same for everyone are written by `writeShared`
   * (the transport's once-per-event rendering); the rest are rendered here for this reader.
   */
  receive(
    message: ServerMessage,
    writeShared: () => void = () => this.port.write(toWire(renderLines(message))),
  ): void {
    if (this.stopped) return;
    const gateReply = this.gate !== undefined && message.ref === this.gate.ref;
    if (message.type === 'rooms') {
      const next = message.payload.next_cursor;
      this.roomsNext =
        next !== undefined
          ? { cursor: next, ...(this.roomsFilter !== undefined ? { filter: this.roomsFilter } : {}) }
          : undefined;
    }
    const own = this.ownRendering(message);
    if (own !== undefined) this.write(own);
    else writeShared();
    if (gateReply) this.settleGate(message);
    // Kicked (or banned): out of the room without having asked, so no gate settles it.
    else if (
      message.type === 'user_left' &&
      message.payload.kicked_by !== undefined &&
      message.payload.user_name === this.nick
    )
      this.forget(message.payload.room_id);
    if (
      typeof message.ref === 'string' &&
      this.awaiting.delete(message.ref) &&
      this.awaiting.size === 0 &&
      this.quitTimer
    ) {
      this.finishQuit();
    }
  }

  // ---- output ------------------------------------------------------------------------------

  /** Renderings that depend on who reads them (never shared, so never cached on the event). */
  private ownRendering(message: ServerMessage): string | undefined {
    switch (message.type) {
      case 'dm':
        return toWire(dmLines(message.payload, this.nick));
      case 'user_left': {
        const { user_name, room_id, kicked_by, reason, quit } = message.payload;
        if (user_name === this.nick)
          return toWire([
            kicked_by === undefined
              ? `*** you left #${room_id}`
              : `#${room_id} -- you were kicked by ${sanitizeText(kicked_by)} (${sanitizeText(reason ?? 'kicked')})`,
          ]);
        return quit ? this.oncePerUser(user_name, `quit\0${reason ?? ''}`) : undefined;
      }
      case 'user_joined':
        this.presenceShown.delete(message.payload.user_name);
        return undefined;
      case 'user_away': {
        const { user_name, message: away } = message.payload;
        if (message.payload.room_id !== undefined) return this.oncePerUser(user_name, `away\0${away ?? ''}`);
        // Your own away state, or the away message of somebody you sent a DM to.
        if (user_name !== this.nick) return undefined;
        return toWire([away !== undefined ? `*** you are away: ${sanitizeText(away)}` : '*** you are back']);
      }
      case 'nick_changed':
        this.presenceShown.delete(message.payload.user_name);
        // You get your own rename as a reply already; the per-room copies would repeat it.
        return message.payload.room_id !== undefined && message.payload.user_name === this.nick
          ? ''
          : undefined;
      case 'history': {
        const seq = typeof message.ref === 'string' ? this.shows.get(message.ref) : undefined;
        if (seq === undefined) return undefined;
        this.shows.delete(message.ref as string);
        const found = message.payload.messages.find((m) => m.seq === seq);
        return toWire(
          found
            ? messageLines(found, true)
            : [
                `*** no message ${seq} in #${sanitizeText(message.payload.room_id)} (not there, or no longer kept)`,
              ],
        );
      }
      case 'error':
        if (typeof message.ref === 'string') this.shows.delete(message.ref);
        // A refused nick answer: settleGate says why and asks again.
        return this.gate?.kind === 'hello' && message.ref === this.gate.ref ? '' : undefined;
      default:
        return undefined;
    }
  }

  /** '' (already shown) when `state` is what was last shown for this user, else undefined (show it). */
  private oncePerUser(userName: string, state: string): string | undefined {
    if (this.presenceShown.get(userName) === state) return '';
    this.presenceShown.delete(userName);
    this.presenceShown.set(userName, state);
    // Bounded: a long-lived connection sees many users quit; the oldest entries go first (at
    // worst a repeat is shown twice).
    if (this.presenceShown.size > PRESENCE_REMEMBERED) {
      const oldest = this.presenceShown.keys().next().value;
      if (oldest !== undefined) this.presenceShown.delete(oldest);
    }
    return undefined;
  }

  private write(text: string): void {
    if (text !== '') this.port.write(text);
  }

  private info(...lines: string[]): void {
    // Notices may quote what the client typed; nothing it typed is echoed back as a control.
    this.write(toWire(lines.map((l) => `*** ${sanitizeText(l)}`)));
  }

  // ---- input -------------------------------------------------------------------------------

  /** Handles queued lines until one needs an answer first; then input waits (and reading pauses). */
  private pump(): void {
    while (!this.gate && !this.stopped && this.queue.length > 0) this.handle(this.queue.shift()!);
    if (this.stopped) return;
    if (this.gate) this.port.reading(false);
    else {
      this.port.reading(true);
      if (this.inputEnded && this.queue.length === 0) this.quit(undefined, false);
    }
  }

  private handle(event: LineEvent): void {
    if (event.kind === 'too_long') {
      this.info(`error: line too long (over ${event.limit} bytes); it was discarded`);
      return;
    }
    if (this.nick === undefined) this.handleNickAnswer(event.text);
    else this.handleChatLine(event.text);
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
      if (parsed.kind === 'command' && parsed.command.name === 'quit')
        return this.quit(parsed.command.reason);
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
      { type: 'hello', payload },
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

  /** Runs a command: the shared table says what it sends; this adds what line mode keeps. */
  private command(c: Command): void {
    // Switching to a room already joined needs nothing from the server.
    // Room ids compare without case (`/join DEV` is #dev): the room keeps its first spelling.
    const known =
      c.name === 'join' ? this.joined.find((r) => r.toLowerCase() === c.room.toLowerCase()) : undefined;
    if (known !== undefined) {
      this.current = known;
      return this.info(`now talking in #${known}`);
    }
    const action = commandAction(c, { room: this.current, roomsNext: this.roomsNext });
    switch (action.kind) {
      case 'refused':
        return this.info(action.reason === 'no_room' ? `error: ${action.message}` : action.message);
      case 'help':
        return this.help(action.topic);
      case 'quit':
        return this.quit(action.reason);
      case 'request':
        return this.send(action.request, c);
    }
  }

  /** Sends a command's request, gated where its answer changes how lines are read. */
  private send(req: CommandRequest, c: Command): void {
    const ref = this.nextRef();
    switch (req.type) {
      case 'join':
      case 'leave':
        this.request(req, { ref, kind: req.type, room: req.payload.room_id });
        return;
      case 'nick':
        this.request(req, { ref, kind: 'nick' });
        return;
      case 'rooms':
        this.roomsFilter = req.payload?.filter;
        this.request(req, undefined, ref);
        return;
      default:
        // `/show`: the one message at that seq, rendered whole when its page comes back (ownRendering).
        if (c.name === 'show') this.shows.set(ref, c.seq);
        this.request(req, undefined, ref);
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
  private quit(reason: string | undefined, said = true): void {
    if (said) {
      // Checked as the server will check it, so a reason that is too long is refused here, not dropped.
      const decoded = decodeClientValue({ type: 'quit', payload: reason !== undefined ? { reason } : {} });
      if (!decoded.ok) return this.info(`error: ${decoded.error.message}`);
      if (decoded.message.type === 'quit') this.goodbye = { ...decoded.message.payload };
    }
    if (this.awaiting.size === 0) return this.finishQuit();
    // Messages, /users and /msg are answered by room actors and the store a turn or more later.
    if (this.quitTimer === undefined) {
      this.quitTimer = setTimeout(() => this.finishQuit(), this.options.replyTimeoutMs);
      this.quitTimer.unref();
    }
  }

  private finishQuit(): void {
    if (this.quitTimer !== undefined) clearTimeout(this.quitTimer);
    this.port.quit(this.goodbye);
  }

  /**
   * Validates a request exactly as a WebSocket frame would be and hands it on. With a gate, later
   * input waits for the answer. Returns false when validation refused it.
   */
  private request(raw: CommandRequest, gate?: Omit<Gate, 'timer'>, givenRef?: string): boolean {
    // Every request carries a ref, so `/quit` can wait for its answer (see `awaiting`).
    const ref = gate?.ref ?? givenRef ?? this.nextRef();
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
    this.port.dispatch(decoded.message);
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
      const room = this.options.defaultRoom;
      this.request({ type: 'join', payload: { room_id: room } }, { ref: this.nextRef(), kind: 'join', room });
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

  private forget(typed: string): void {
    const i = this.joined.findIndex((r) => r.toLowerCase() === typed.toLowerCase());
    const room = this.joined[i];
    if (room === undefined) return;
    this.joined.splice(i, 1);
    if (this.current !== room) return;
    this.current = this.joined[this.joined.length - 1];
    this.info(
      this.current === undefined ? 'you are in no room now; /join one' : `now talking in #${this.current}`,
    );
  }

  private nextRef(): string {
    return `tcp${++this.refs}`;
  }
}
