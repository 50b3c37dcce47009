import { decodeClientValue } from '../../../protocol/codec.js';
import type { CommandRequest } from '../../../protocol/commands.js';
import type { ChatMessage, RoomRole, ServerEventPayloads, ServerMessage } from '../../../protocol/events.js';
import type { UserProfile } from '../../connection.js';
import { sanitizeText } from '../../../protocol/sanitize.js';
import type { ClientMessage } from '../../../protocol/schema.js';
import type { Cap } from './caps.js';
import { COMMANDS, type IrcContext } from './commands.js';
import { ChannelStates } from './channel-state.js';
import { isShared, messageLines, sharedBytes, sharedLines } from './events.js';
import { renderKey } from './caps.js';
import type { Outbound } from '../../outbound.js';
import {
  formatMessage,
  MAX_CLIENT_TAG_BYTES,
  MAX_LINE_BYTES,
  parseMessage,
  type OutMessage,
} from './message.js';
import { channelOf, ircNick, sourceOf } from './names.js';
import { roleLetter } from './channel-state.js';
import { ERR, RPL } from './numerics.js';
import { Reply } from './reply.js';
import { monitorLine, type MonitorRegistry } from './monitor.js';

/** Prefix of a queued line whose bytes were not UTF-8 (set by the socket side, irc.ts). */
export const INVALID_UTF8 = '\0utf8\0';

/** What an IRC session drives: it never sees a socket. */
export interface IrcSessionPort {
  /** Wire text for the client (CR LF line endings). */
  write(text: string): void;
  /** Wire bytes for the client (a shared rendering: the same Buffer goes to every reader). */
  writeBytes(bytes: Buffer): void;
  /** A validated request for the hub. */
  dispatch(message: ClientMessage): void;
  /** The client said QUIT (`reason`, `''` for none): the hub ends the connection, the rooms see why. */
  quit(reason: string): void;
}

/** Settings of an IRC session. */
export interface IrcSessionOptions {
  /** The server's name: the source of its messages, in 001-005. */
  serverName: string;
  /** The message of the day, or none (422). */
  motd: string[] | undefined;
  /** When the server started, for 003. */
  createdAt: Date;
  /** How long a request may stay unanswered before the command gives up. */
  replyTimeoutMs: number;
  /** Counts for LUSERS. */
  counts(): { users: number; rooms: number };
  /** The display nick of the user online under `name` (as nicks collide), if any. */
  online(name: string): string | undefined;
  /** The nicks online on any node that pass `test`, at most `limit` (WHO with a mask). */
  findNicks(test: (nick: string) => boolean, limit: number): Promise<string[]>;
  /** What whois says of each nick (rooms apart), wherever it is held; undefined for one gone (WHO). */
  whoAnswers(names: string[], rooms?: string[]): Promise<(ServerEventPayloads['whois'] | undefined)[]>;
  /** MONITOR: who monitors which nick on this door. */
  monitors: MonitorRegistry;
  /** MONITOR: the display nick of each name online on any node (undefined: offline). */
  heldNicks(names: string[]): Promise<(string | undefined)[]>;
  /** Told about a command that failed inside the door (a bug): logged by the server. */
  onError?(err: unknown, context: string): void;
}

/** Message ids this connection has seen, for `msgid=` references (bounded). */
const MAX_KNOWN_IDS = 1000;

/** An answer to a request: what the hub sent back with its ref. */
type Answer = ServerMessage;

/**
 * One IRC client, without the socket: lines in, requests and IRC lines out. Commands run one
 * after another (a command waiting on the hub holds the later ones back, so replies come in
 * command order and labeled-response is exact); the command table is in commands.ts. Events from
 * rooms are written as they come, rendered once per caps set (events.ts) where they read the same
 * for every member.
 */
export class IrcSession implements IrcContext {
  // ---- state the command handlers read and change -------------------------------------------
  readonly caps = new Set<Cap>();
  /** CAP LS/REQ began and END has not come: registration waits. */
  capNegotiating = false;
  cap302 = false;
  /** The nick asked for with NICK (before registration), or the one held. */
  nick: string | undefined;
  user: { user: string; realname: string } | undefined;
  /** User mode +i (see IrcContext.invisible). */
  invisible = false;
  password: string | undefined;
  /** The hub knows this connection by a nick (SASL or registration bound it). */
  bound = false;
  /** 001 was sent. */
  registered = false;
  /** The bound nick is a registered one proved by password. */
  account: string | undefined;
  /** SASL PLAIN in progress: the base64 received so far. */
  sasl: string | undefined;
  /** Channels joined (room ids). */
  readonly channels = new Set<string>();
  /** Modes and roles of the channels joined, to say role and mode changes as IRC does. */
  readonly chans = new ChannelStates();
  readonly monitored = new Map<string, string>();
  readonly options: IrcSessionOptions;

  private readonly lines: string[] = [];
  private running = false;
  private stopped = false;
  private refs = 0;
  private readonly waiting = new Map<string, (answer: Answer | undefined) => void>();
  /** Message id -> room and seq, for chathistory references. */
  private readonly knownIds = new Map<string, { room: string; seq: number; ts: number }>();
  /** Nicks whose QUIT this client was shown lately: the copies from their other rooms are dropped. */
  private readonly quits = new Map<string, number>();
  private lastRename: string | undefined;
  /** The away message last shown per nick (`''`: back), so one change told by each shared room shows once. */
  private readonly awayShown = new Map<string, string>();
  /** The account last shown per nick (`''`: none), so one login told by each shared room shows once. */
  private readonly accountShown = new Map<string, string>();
  private current: Reply | undefined;
  /** The caps' render key, kept until the caps change (it is read for every event delivered). */
  private key: string | undefined;

  constructor(
    private readonly port: IrcSessionPort,
    options: IrcSessionOptions,
  ) {
    this.options = options;
  }

  /** The caps changed (CAP REQ): the render key is worked out again. */
  capsChanged(): void {
    this.key = undefined;
  }

  /** The connection ended: nothing more is written, waiting commands give up. */
  stop(): void {
    this.stopped = true;
    for (const key of this.monitored.keys()) this.options.monitors.unwatch(key, this);
    this.monitored.clear();
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }

  /** Lines that got through flood control, in order. */
  input(line: string): void {
    if (this.stopped) return;
    this.lines.push(line);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.lines.length > 0) await this.handle(this.lines.shift()!);
    } finally {
      this.running = false;
    }
  }

  /** One line: checked for size, parsed, then run through its entry in the command table. */
  private async handle(line: string): Promise<void> {
    const invalidUtf8 = line.startsWith(INVALID_UTF8);
    const raw = invalidUtf8 ? line.slice(INVALID_UTF8.length) : line;
    const tagEnd = raw.startsWith('@') ? raw.indexOf(' ') + 1 : 0;
    if (tagEnd > MAX_CLIENT_TAG_BYTES || Buffer.byteLength(raw.slice(tagEnd), 'utf8') + 2 > MAX_LINE_BYTES) {
      this.numeric(ERR.INPUTTOOLONG, 'Input line was too long');
      return;
    }
    const message = parseMessage(raw);
    if (!message) return;
    const label = this.caps.has('labeled-response') ? message.tags.get('label') : undefined;
    const reply = new Reply(label?.slice(0, 64), this.caps, this.options.serverName);
    this.current = reply;
    try {
      const entry = COMMANDS[message.command];
      if (invalidUtf8) {
        // UTF8ONLY: a line that is not UTF-8 is refused whole (IRCv3 utf8-only), never guessed at.
        this.fail(message.command, 'INVALID_UTF8', 'Message rejected: this server takes UTF-8 only');
      } else if (entry === undefined) {
        if (this.registered) this.numeric(ERR.UNKNOWNCOMMAND, message.command, 'Unknown command');
        else this.numeric(ERR.NOTREGISTERED, 'You have not registered');
      } else if (entry.registered && !this.registered) {
        this.numeric(ERR.NOTREGISTERED, 'You have not registered');
      } else if (message.params.length < entry.minParams) {
        this.numeric(ERR.NEEDMOREPARAMS, message.command, 'Not enough parameters');
      } else {
        await entry.run(this, message);
      }
    } catch (err) {
      // A fault in one command must not end the session's command loop (nor the process).
      this.options.onError?.(err, `irc ${message.command}`);
      this.fail(message.command, 'INTERNAL_ERROR', 'The server failed to handle the command');
    } finally {
      this.current = undefined;
      if (!this.stopped) this.write(reply.finish());
    }
  }

  // ---- output -------------------------------------------------------------------------------

  /** The nick to address numerics to: `*` until there is one. */
  get target(): string {
    return this.registered && this.nick !== undefined ? ircNick(this.nick) : '*';
  }

  /** Adds lines to the current command's answer (or writes them when no command runs). */
  send(...lines: OutMessage[]): void {
    if (this.current) this.current.add(...lines);
    else this.write(lines.map(formatMessage).join(''));
  }

  /** A batch of lines in the current answer (see Reply.addBatch). */
  sendBatch(type: string, params: string[], lines: OutMessage[]): void {
    if (this.current) this.current.addBatch(type, params, lines);
    else {
      const reply = new Reply(undefined, this.caps, this.options.serverName);
      reply.addBatch(type, params, lines);
      this.write(reply.finish());
    }
  }

  /** A numeric from the server to this client. */
  numeric(code: string, ...params: string[]): void {
    this.send({ source: this.options.serverName, command: code, params: [this.target, ...params] });
  }

  /** A server NOTICE to this client. */
  notice(text: string): void {
    this.send({
      source: this.options.serverName,
      command: 'NOTICE',
      params: [this.target, sanitizeText(text)],
    });
  }

  /** A standard reply (`FAIL <command> <code> ... :text`). */
  fail(command: string, code: string, ...rest: string[]): void {
    this.send({ source: this.options.serverName, command: 'FAIL', params: [command, code, ...rest] });
  }

  /** Writes wire text now. */
  write(text: string): void {
    if (text !== '' && !this.stopped) this.port.write(text);
  }

  /** QUIT: the answers so far are written, then the hub ends the connection (ERROR, rooms told). */
  quit(reason: string): void {
    if (this.current) {
      this.write(this.current.finish());
      this.current = undefined;
    }
    this.stop();
    this.port.quit(reason);
  }

  /** The PRIVMSG lines of a chat message for this reader (split, tagged), remembering its id. */
  messageLines(m: ChatMessage | (Omit<ChatMessage, 'room_id' | 'seq'> & { target: string })): OutMessage[] {
    if ('room_id' in m) this.remember(m);
    return messageLines(m, 'room_id' in m ? channelOf(m.room_id) : m.target, this.caps);
  }

  /**
   * Notes a message id, for `msgid=` references. Only for a client that can see ids (message-tags):
   * the others could never refer to one, and would pay the memory for nothing.
   */
  remember(m: ChatMessage): void {
    if (!this.caps.has('message-tags')) return;
    this.knownIds.delete(m.id);
    this.knownIds.set(m.id, { room: m.room_id, seq: m.seq, ts: m.ts });
    if (this.knownIds.size > MAX_KNOWN_IDS) {
      const oldest = this.knownIds.keys().next().value;
      if (oldest !== undefined) this.knownIds.delete(oldest);
    }
  }

  /** The room and seq of a message id this connection saw. */
  known(id: string): { room: string; seq: number; ts: number } | undefined {
    return this.knownIds.get(id);
  }

  // ---- requests -----------------------------------------------------------------------------

  /**
   * Sends a request, validated exactly as a WebSocket frame would be, and resolves with the hub's
   * answer to it (the event carrying its ref): an `error` when validation or the hub refused it,
   * undefined when no answer came in time or the connection ended.
   */
  ask(raw: CommandRequest): Promise<Answer | undefined> {
    const ref = `irc${++this.refs}`;
    const decoded = decodeClientValue({ ...raw, ref });
    if (!decoded.ok) return Promise.resolve({ type: 'error', payload: decoded.error, ref });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        resolve(undefined);
      }, this.options.replyTimeoutMs);
      timer.unref();
      this.waiting.set(ref, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.port.dispatch(decoded.message);
    });
  }

  /** Sends a request whose answer nobody waits for (its errors are dropped). */
  tell(raw: CommandRequest): void {
    const decoded = decodeClientValue(raw);
    if (decoded.ok) this.port.dispatch(decoded.message);
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * An event for this client. An answer to a request goes to whoever asked; an event that reads
   * the same for every member is written from the shared rendering; the rest are rendered here.
   */
  receive(out: Outbound): void {
    if (this.stopped) return;
    const message = out.message;
    // The hot path: a room's message, the same bytes for every reader with these caps.
    if (message.type === 'message' && message.ref === undefined && this.registered) {
      if (this.caps.has('message-tags')) this.remember(message.payload);
      const bytes = sharedBytes(out, (this.key ??= renderKey(this.caps)), this.caps);
      if (bytes.length > 0) this.port.writeBytes(bytes);
      return;
    }
    if (typeof message.ref === 'string') {
      const waiter = this.waiting.get(message.ref);
      if (waiter) {
        this.waiting.delete(message.ref);
        waiter(message);
        return;
      }
    }
    if (!this.registered) return;
    if (message.type === 'user_away' && message.payload.room_id === undefined) {
      // After a DM to an away user: their away message (RPL_AWAY).
      const p = message.payload;
      if (p.message !== undefined) this.numeric(RPL.AWAY, ircNick(p.user_name), sanitizeText(p.message));
      return;
    }
    if (isShared(message.type)) {
      // Each room's copy, the repeats and our own rename included: each room's roles follow it.
      if (message.type === 'nick_changed' && message.payload.room_id !== undefined)
        this.chans.renamed(message.payload.room_id, message.payload.old_name, message.payload.user_name);
      // Said after the NICK (ours was the answer to NICK; a repeat's came with the first room).
      if (this.skipRepeat(message)) {
        if (message.type === 'nick_changed') this.renamedRole(message.payload);
        return;
      }
      if (message.type === 'message') this.remember(message.payload);
      const bytes = sharedBytes(out, (this.key ??= renderKey(this.caps)), this.caps);
      if (bytes.length > 0) this.port.writeBytes(bytes);
      if (message.type === 'user_joined') this.joinedRole(message.payload);
      if (message.type === 'user_left') this.leftBy(message.payload);
      if (message.type === 'nick_changed') this.renamedRole(message.payload);
      return;
    }
    switch (message.type) {
      case 'role_changed':
        return this.write(this.chans.roleChanged(message.payload).map(formatMessage).join(''));
      case 'modes_changed':
        return this.write(this.chans.modesChanged(message.payload).map(formatMessage).join(''));
      case 'invited': {
        // To the invitee always; to the room's other operators with invite-notify (IRCv3).
        const p = message.payload;
        const toMe = p.user_name === this.nick;
        if (!toMe && !this.caps.has('invite-notify')) return;
        return this.send({
          source: sourceOf(p.by),
          command: 'INVITE',
          params: [toMe ? this.target : ircNick(p.user_name), channelOf(p.room_id)],
        });
      }
      case 'dm':
        return this.write(
          this.messageLines({ ...message.payload, user_name: message.payload.from, target: this.target })
            .map(formatMessage)
            .join(''),
        );
      case 'history':
        return this.joinBacklog(message.payload.room_id, message.payload.messages);
      case 'error':
        return this.notice(`error: ${message.payload.message}`);
      case 'shutdown':
        return this.notice(message.payload.message);
      default:
        return;
    }
  }

  /** A member who joins with a standing role gets it back: IRC clients learn it from a MODE line. */
  private joinedRole(p: { room_id: string; user_name: string; role?: RoomRole }): void {
    this.chans.setRole(p.room_id, p.user_name, p.role);
    const letter = roleLetter(p.role);
    if (letter)
      this.send({
        source: this.options.serverName,
        command: 'MODE',
        params: [channelOf(p.room_id), `+${letter}`, ircNick(p.user_name)],
      });
  }

  /** This client was removed from a channel (a kick, a ban): it is no longer in it. */
  private leftBy(p: { room_id: string; user_name: string; quit?: boolean }): void {
    if (p.quit === true || p.user_name !== this.nick) return;
    this.channels.delete(p.room_id);
    this.chans.left(p.room_id);
  }

  /**
   * The page a room sends after a join. A client that fetches history itself (chathistory) or
   * cannot tell old lines from new (no server-time) does not get it; the others get it as a
   * `chathistory` batch, as ergo's autoreplay does.
   */
  private joinBacklog(roomId: string, messages: ChatMessage[]): void {
    for (const m of messages) this.remember(m);
    if (this.caps.has('draft/chathistory') || !this.caps.has('server-time') || messages.length === 0) return;
    this.sendBatch(
      'chathistory',
      [channelOf(roomId)],
      messages.flatMap((m) => this.messageLines(m)),
    );
  }

  /**
   * A user's QUIT or NICK reaches this client once per room they share: IRC clients expect it
   * once. The copies after the first are dropped (this reader's choice; the rendering is shared).
   */
  private skipRepeat(message: ServerMessage): boolean {
    if (message.type === 'user_away') {
      const key = message.payload.user_name;
      // Your own away state is told by 305/306, as IRC servers do, not by away-notify.
      if (key === this.nick) return true;
      const text = message.payload.message ?? '';
      if ((this.awayShown.get(key) ?? '') === text) return true;
      if (this.awayShown.size > 1000) this.awayShown.clear();
      this.awayShown.set(key, text);
      return false;
    }
    if (message.type === 'user_account') {
      const key = message.payload.user_name;
      if (key === this.nick) return true;
      const account = message.payload.account ?? '';
      if (this.accountShown.get(key) === account) return true;
      if (this.accountShown.size > 1000) this.accountShown.clear();
      this.accountShown.set(key, account);
      return false;
    }
    if (message.type === 'user_left' && message.payload.quit === true) {
      const key = message.payload.user_name;
      this.awayShown.delete(key);
      this.accountShown.delete(key);
      const now = Date.now();
      const seen = this.quits.get(key);
      if (this.quits.size > 1000) this.quits.clear();
      this.quits.set(key, now);
      return seen !== undefined && now - seen < 5000;
    }
    if (message.type === 'nick_changed') {
      // Your own rename is told by the answer to your NICK; the copies from your rooms repeat it.
      const own = message.payload.user_name === this.nick || message.payload.old_name === this.nick;
      if (own) return true;
      const key = `${message.payload.old_name}\0${message.payload.user_name}`;
      const repeat = this.lastRename === key;
      this.lastRename = key;
      return repeat;
    }
    if (message.type === 'user_joined') this.quits.delete(message.payload.user_name);
    return false;
  }

  /**
   * A room's copy of a rename: a MODE from the server when the new nick's role there is not the
   * one its prefix carried over (a role given for good stays with the registered nick).
   */
  private renamedRole(p: ServerEventPayloads['nick_changed']): void {
    if (p.room_id === undefined || p.role === undefined) return;
    const lines = this.chans.changeRole(p.room_id, p.user_name, p.role, this.options.serverName);
    if (lines.length > 0) this.write(lines.map(formatMessage).join(''));
  }

  /** MONITOR: a monitored nick came online (730) or went (731). */
  monitorChanged(nick: string, online: boolean): void {
    if (this.stopped || !this.registered) return;
    const { code, param } = monitorLine(nick, online);
    this.numeric(code, param);
  }

  /** What USER gave (username with its `~`, real name) and mode +i, for whois and WHO on every node. */
  profile(): UserProfile | undefined {
    return this.user
      ? { username: this.user.user, realName: this.user.realname, invisible: this.invisible }
      : undefined;
  }

  /** The source of this client's own lines. */
  get source(): string {
    return sourceOf(this.nick ?? '*');
  }
}

export { sharedLines };
export type { Outbound };
