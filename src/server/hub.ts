import { decodeClientFrame, type DecodeOptions } from '../protocol/codec.js';
import { protocolError, RequestError } from '../protocol/errors.js';
import type { RoomSummary } from '../protocol/events.js';
import { DEFAULT_ROOM, MAX_HISTORY_PAGE, MAX_MESSAGE_CHARS, MAX_NICK_CHARS } from '../protocol/limits.js';
import { nickKey } from '../protocol/nick.js';
import type { ClientMessage, RequestPayload, RequestType } from '../protocol/schema.js';
import { SERVE_DEFAULTS } from '../options/serve.js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashPassword, verifyPassword } from './auth/password.js';
import type { CloseReason, Connection, TransportKind } from './connection.js';
import { normaliseAddress } from './limits/admission.js';
import { KeyedRateLimiters, type KeyedLimitOptions } from './limits/keyed.js';
import { DEFAULT_MESSAGE_RATE, RateLimiter, type RateDecision, type RateLimitOptions } from './limits/rate-limit.js';
import {
  DEFAULT_PASSWORD_RATE,
  DEFAULT_PRESENCE_RATE,
  DEFAULT_PRESENCE_RATE_PER_ADDRESS,
  DEFAULT_READ_RATE,
  DEFAULT_READ_RATE_PER_ADDRESS,
  DEFAULT_ROOM_CREATE_PER_ADDRESS,
  DEFAULT_ROOM_CREATE_RATE,
  DEFAULT_ROOM_IDLE_EXPIRY_MS,
  DualLimit,
} from './limits/request-limit.js';
import { roomsPage } from './rooms-page.js';
import { runFilters, type MessageFilter } from './moderation/filters.js';
import { Room, type RoomObserver } from './room.js';
import { Session, type SessionOptions } from './session.js';
import type { Store } from './store/store.js';

/**
 * Reads, presence changes and new rooms of one connection refused `rate_limited` within one
 * event-loop turn after which it is cut: each refusal is cheap, but a client can pipeline
 * thousands in one socket read, and answering them all holds the event loop; no honest client
 * pipelines hundreds of those. Messages are left out (pasting many lines into a line client
 * pipelines them honestly); their rate limit's flood rule cuts a sustained flood.
 */
const MAX_REFUSALS_PER_TURN = 200;

/** A refusal by one of the limits of {@link Hub.charge}, counted by {@link Hub.noteRefusal}. */
class LimitRefusal extends RequestError {
  constructor(message: string, retryAfterMs: number) {
    super('rate_limited', message, { retry_after_ms: retryAfterMs });
  }
}

/** A number that changes once per event-loop turn (bumped by an immediate, made only when asked). */
let turn = 0;
let turnBumpQueued = false;
function currentTurn(): number {
  if (!turnBumpQueued) {
    turnBumpQueued = true;
    setImmediate(() => {
      turn++;
      turnBumpQueued = false;
    });
  }
  return turn;
}

/** Wrong passwords one connection may send before it is closed. */
const MAX_PASSWORD_FAILURES = 3;

/** The server version reported in `welcome`. */
export const SERVER_VERSION = '0.1.0';

/** Hub settings; every one has a default. */
export interface HubOptions {
  store: Store;
  defaultRoom?: string;
  /** Outbound queue bound per connection in bytes (slow-consumer cut-off). */
  maxQueueBytes?: number;
  maxMessageChars?: number;
  /** Rooms one session may be in at once. */
  maxRoomsPerUser?: number;
  /** Members one room may hold. */
  maxMembersPerRoom?: number;
  /** Rooms the server holds at most (loaded ones included); past it `server_rooms_full`. */
  maxRooms?: number;
  /** Per-connection rate of creating rooms (`create_room`, `join` of a new id); `false` turns it off. */
  roomCreateLimit?: RateLimitOptions | false;
  /** The same per client address (a fresh connection does not reset it); `false` turns it off. */
  roomCreateAddressLimit?: KeyedLimitOptions | false;
  /** Per-connection rate of reads (`history`, `users`, `rooms`); `false` turns it off. */
  readLimit?: RateLimitOptions | false;
  /** The same per client address; `false` turns it off. */
  readAddressLimit?: KeyedLimitOptions | false;
  /** Per-connection rate of presence changes (`join`, `leave`, `nick`: each makes notices); `false` turns it off. */
  presenceLimit?: RateLimitOptions | false;
  /** The same per client address; `false` turns it off. */
  presenceAddressLimit?: KeyedLimitOptions | false;
  /**
   * An empty room (no members, no watchers) this long is deleted with its history, unless a
   * registered nick (or the server) created it; 0 keeps every room. Default one hour.
   */
  roomIdleExpiryMs?: number;
  /**
   * Per-address rate of password checks (`hello` with a password for a registered nick,
   * `register`): each costs a full scrypt. `false` turns it off.
   */
  passwordLimit?: KeyedLimitOptions | false;
  /** Called for failures that are the server's fault (logged by the caller). */
  onInternalError?(err: unknown, context: string): void;
  /** Called once per message batch committed by any room. */
  observer?: RoomObserver;
  /** Per-connection message rate limit (messages and DMs); `false` turns it off. */
  rateLimit?: RateLimitOptions | false;
  /** Moderation filters every message and DM passes, in order. */
  filters?: MessageFilter[];
  /** A connection that has not identified within this many ms is closed (0 = never). */
  identifyTimeoutMs?: number;
}

type Handler<T extends RequestType> = (session: Session, payload: RequestPayload<T>, ref: string | number | undefined) => void | Promise<void>;

/**
 * The registry: rooms, sessions and nicks. It validates requests, checks who may do what, and
 * hands room work to the room actors; it never touches a room's members or seq itself.
 */
export class Hub {
  readonly store: Store;
  readonly defaultRoom: string;
  private readonly rooms = new Map<string, Room>();
  /** Rooms whose store record is being written: registered only once the write succeeded. */
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly sessions = new Set<Session>();
  private readonly nicks = new Map<string, Session>();
  private readonly options: Required<Omit<HubOptions, 'onInternalError' | 'observer'>> & HubOptions;
  private readonly decodeOptions: DecodeOptions;
  /** Counters for stats and metrics. */
  readonly counters = { messagesIn: 0, framesIn: 0, errorsOut: 0, slowConsumers: 0 };
  private accepting = true;

  constructor(options: HubOptions) {
    this.options = {
      defaultRoom: DEFAULT_ROOM,
      maxQueueBytes: SERVE_DEFAULTS.maxQueueBytes,
      maxMessageChars: MAX_MESSAGE_CHARS,
      maxRoomsPerUser: SERVE_DEFAULTS.maxRoomsPerUser,
      maxMembersPerRoom: SERVE_DEFAULTS.maxMembersPerRoom,
      maxRooms: SERVE_DEFAULTS.maxRooms,
      rateLimit: DEFAULT_MESSAGE_RATE,
      roomCreateLimit: DEFAULT_ROOM_CREATE_RATE,
      roomCreateAddressLimit: DEFAULT_ROOM_CREATE_PER_ADDRESS,
      readLimit: DEFAULT_READ_RATE,
      readAddressLimit: DEFAULT_READ_RATE_PER_ADDRESS,
      presenceLimit: DEFAULT_PRESENCE_RATE,
      presenceAddressLimit: DEFAULT_PRESENCE_RATE_PER_ADDRESS,
      roomIdleExpiryMs: DEFAULT_ROOM_IDLE_EXPIRY_MS,
      passwordLimit: DEFAULT_PASSWORD_RATE,
      filters: [],
      identifyTimeoutMs: SERVE_DEFAULTS.identifyTimeout * 1000,
      ...options,
    };
    this.store = options.store;
    this.defaultRoom = this.options.defaultRoom;
    this.decodeOptions = { maxMessageChars: this.options.maxMessageChars };
    this.sessionOptions.maxQueueBytes = this.options.maxQueueBytes;
    this.passwordLimiters = this.options.passwordLimit ? new KeyedRateLimiters(this.options.passwordLimit) : undefined;
    this.roomCreates = new DualLimit({ perConnection: this.options.roomCreateLimit, perAddress: this.options.roomCreateAddressLimit });
    this.reads = new DualLimit({ perConnection: this.options.readLimit, perAddress: this.options.readAddressLimit });
    this.presence = new DualLimit({ perConnection: this.options.presenceLimit, perAddress: this.options.presenceAddressLimit });
  }

  private readonly roomCreates: DualLimit;
  private readonly reads: DualLimit;
  private readonly presence: DualLimit;
  private expiryTimer: NodeJS.Timeout | undefined;

  /** Password checks per client address (see HubOptions.passwordLimit). */
  private readonly passwordLimiters: KeyedRateLimiters | undefined;

  /** Loads the rooms from the store and makes sure the default room exists. */
  async init(): Promise<void> {
    for (const record of await this.store.listRooms()) {
      this.rooms.set(record.room_id, this.makeRoom(record.room_id, record.room_name, record.created_by, record.last_seq, undefined));
    }
    if (!this.rooms.has(this.defaultRoom)) {
      await this.store.createRoom({ room_id: this.defaultRoom, room_name: this.defaultRoom, created_by: 'server', created_ts: Date.now() });
      this.rooms.set(this.defaultRoom, this.makeRoom(this.defaultRoom, this.defaultRoom, 'server', 0, true));
    }
    this.rooms.get(this.defaultRoom)!.keep = true;
    const expiry = this.options.roomIdleExpiryMs;
    if (expiry > 0) {
      this.expiryTimer = setInterval(() => void this.expireIdleRooms(), Math.min(60_000, Math.max(10, expiry / 4)));
      this.expiryTimer.unref();
    }
  }

  /** `keep`: survives being empty (see Room.keep); undefined for rooms loaded from the store. */
  private makeRoom(id: string, name: string, createdBy: string, lastSeq: number, keep: boolean | undefined): Room {
    return new Room(id, name, createdBy, lastSeq, this.store, this.options.observer, this.options.onInternalError, keep);
  }

  // ---- idle expiry -------------------------------------------------------------------------

  private sweeping = false;

  /**
   * Asks every room empty for longer than the expiry, and not kept, to end itself. The room
   * decides in its mailbox (Room.handleExpire), where no join can race the decision.
   */
  private async expireIdleRooms(): Promise<void> {
    if (this.sweeping || !this.accepting) return;
    this.sweeping = true;
    try {
      const idleMs = this.options.roomIdleExpiryMs;
      const now = Date.now();
      for (const room of [...this.rooms.values()]) {
        if (room.keep === true || room.idleFor(now) < idleMs) continue;
        // Loaded from the store: kept when its creator's nick is registered (or it is the server's).
        room.keep ??= room.createdBy === 'server' || (await this.isRegistered(room.createdBy));
        if (room.keep || this.rooms.get(room.id) !== room) continue;
        room.post({ kind: 'expire', idleMs, remove: () => this.removeRoom(room) });
      }
    } catch (err) {
      this.options.onInternalError?.(err, 'expiring idle rooms');
    } finally {
      this.sweeping = false;
    }
  }

  private async isRegistered(name: string): Promise<boolean> {
    let key: string;
    try {
      key = nickKey(name);
    } catch {
      return false;
    }
    return (await this.store.getUser(key)) !== undefined;
  }

  /**
   * Called by an expiring room from its mailbox: out of the registry at once (in the same
   * synchronous stretch as the room's decision), then out of the store. If the store fails the
   * room goes back in, unless the id was taken meanwhile, and the error reaches the log.
   */
  private removeRoom(room: Room): Promise<void> {
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    return this.store.deleteRoom(room.id).catch((err: unknown) => {
      if (!this.rooms.has(room.id)) this.rooms.set(room.id, room);
      throw err;
    });
  }

  /** Shared by every session (one object, not one closure per connection: idle memory). */
  private readonly sessionOptions: SessionOptions = {
    maxQueueBytes: 0, // set in the constructor, once the options are known
    onSlowConsumer: (s) => {
      this.counters.slowConsumers++;
      this.disconnect(s, { code: 'slow_consumer', message: 'you fell too far behind; reconnect and resume from history' });
    },
  };

  /** Registers a new connection and returns its session. */
  connect(conn: Connection): Session {
    const session = new Session(conn, this.sessionOptions);
    this.sessions.add(session);
    // Read-only and one-shot doors (SSE, POST) identify differently; sockets must say who they are.
    if (this.options.identifyTimeoutMs > 0 && (conn.transport === 'ws' || conn.transport === 'tcp')) {
      const timer = setTimeout(() => {
        if (!session.identified) {
          this.disconnect(session, { code: 'identify_timeout', message: `no hello within ${this.options.identifyTimeoutMs / 1000} s` });
        }
      }, this.options.identifyTimeoutMs);
      timer.unref();
      session.identifyTimer = timer;
    }
    return session;
  }

  /** Ends a session: frees its nick, leaves its rooms (members see why), closes the connection. */
  disconnect(session: Session, reason: CloseReason): void {
    if (!this.sessions.delete(session)) return;
    clearTimeout(session.identifyTimer);
    session.close(reason);
    this.release(session, reason.code === 'client_closed' ? 'quit' : reason.code);
  }

  /** The client went away (socket closed): same as disconnect, but there is nobody to tell. */
  gone(session: Session): void {
    this.disconnect(session, { code: 'client_closed', message: 'connection closed' });
  }

  private release(session: Session, why: string): void {
    if (session.nickKey !== undefined && this.nicks.get(session.nickKey) === session) this.nicks.delete(session.nickKey);
    for (const roomId of session.rooms) this.rooms.get(roomId)?.post({ kind: 'leave', session, reason: why, ref: undefined });
    session.rooms.clear();
    const watched = this.watching.get(session);
    if (watched !== undefined) {
      this.watching.delete(session);
      this.rooms.get(watched)?.post({ kind: 'unwatch', session });
    }
  }

  /** Handles one raw frame from a session's transport. Never throws. */
  receive(session: Session, text: string): void {
    if (session.closed) return;
    this.counters.framesIn++;
    const decoded = decodeClientFrame(text, this.decodeOptions);
    if (!this.accepting && decoded.ok && decoded.message.type !== 'ping') {
      session.send('error', protocolError('shutting_down'), decoded.message.ref);
      return;
    }
    if (!decoded.ok) {
      this.counters.errorsOut++;
      session.send('error', decoded.error, decoded.ref);
      return;
    }
    this.dispatch(session, decoded.message);
  }

  /** Handles one validated request (transports that parse themselves, e.g. TCP, call this). */
  dispatch(session: Session, message: ClientMessage): void {
    session.run(() => this.handle(session, message));
  }

  private handle(session: Session, message: ClientMessage): void | Promise<void> {
    const handler = this.handlers[message.type] as Handler<typeof message.type>;
    try {
      const result = handler(session, message.payload as never, message.ref);
      if (result instanceof Promise) return result.catch((err: unknown) => this.fail(session, err, message));
    } catch (err) {
      this.fail(session, err, message);
    }
  }

  private fail(session: Session, err: unknown, message: ClientMessage): void {
    this.counters.errorsOut++;
    if (err instanceof RequestError) {
      session.send('error', err.error, message.ref);
      if (err instanceof LimitRefusal) this.noteRefusal(session);
      return;
    }
    this.options.onInternalError?.(err, `handling ${message.type}`);
    session.send('error', protocolError('internal_error'), message.ref);
  }

  /** Cuts a connection refused more than {@link MAX_REFUSALS_PER_TURN} times in one turn. */
  private noteRefusal(session: Session): void {
    const now = currentTurn();
    if (session.refusalsTurn !== now) {
      session.refusalsTurn = now;
      session.refusals = 0;
    }
    if (++session.refusals > MAX_REFUSALS_PER_TURN && !session.closed) {
      session.send('error', protocolError('rate_limited', `more than ${MAX_REFUSALS_PER_TURN} refused requests at once; disconnected`));
      this.disconnect(session, { code: 'rate_limited', message: 'sustained flooding' });
    }
  }

  // ---- request handlers ------------------------------------------------------------------

  private readonly handlers: { [T in RequestType]: Handler<T> } = {
    hello: async (session, p, ref) => {
      if (session.identified) throw new RequestError('already_identified', `you are ${session.nick} already; use nick to rename`);
      await this.bind(session, p.user_name, p.user_id, p.password, p.resume_token);
      this.sendWelcome(session, ref);
    },
    create_room: async (session, p, ref) => {
      const exists = (): boolean => this.rooms.has(p.room_id) || this.creating.has(p.room_id);
      if (exists()) throw new RequestError('room_exists', `room ${p.room_id} exists already; join it`);
      await this.ensureIdentity(session, p.user_name, p.user_id, ref);
      // Re-check: binding may have waited on the store.
      if (exists()) throw new RequestError('room_exists', `room ${p.room_id} exists already; join it`);
      this.checkRoomQuota(session);
      this.admitNewRoom(session);
      const name = p.room_name ?? p.room_id;
      const room = await this.createRoom(p.room_id, name, session.nick!, session.registered);
      session.send('room_created', { room_id: p.room_id, room_name: name, created_by: session.nick! }, ref);
      this.enter(session, room, undefined, ref);
    },
    join: async (session, p, ref) => {
      await this.ensureIdentity(session, p.user_name, p.user_id, ref);
      let room = this.rooms.get(p.room_id);
      if (!session.rooms.has(p.room_id)) this.checkRoomQuota(session);
      // Every join costs: a newcomer is announced to the room, a rejoin reads a history page.
      this.charge(session, this.presence, 'presenceRate', 'joins, leaves and nick changes');
      if (!room) {
        const pending = this.creating.get(p.room_id);
        if (!pending) this.admitNewRoom(session);
        room = await (pending ?? this.createRoom(p.room_id, p.room_id, session.nick!, session.registered));
      }
      if (!session.rooms.has(p.room_id) && room.memberCount >= this.options.maxMembersPerRoom) {
        throw new RequestError('room_full', `${p.room_id} has ${room.memberCount} members, the most it may hold`);
      }
      this.enter(session, room, p.since_seq, ref);
    },
    leave: (session, p, ref) => {
      const room = this.requireRoom(p.room_id);
      if (!session.rooms.delete(p.room_id)) throw new RequestError('not_in_room', `you are not in ${p.room_id}`);
      // A leave spends a presence token when there is one but is never refused: the way out stays
      // open, and leaves cannot outnumber the joins (which are refused) by more than the rooms one is in.
      this.presence.take(session, 'presenceRate', session.conn.remoteAddress);
      room.post({ kind: 'leave', session, ref });
    },
    message: (session, p, ref) => this.sendToRoom(session, p, ref, true),
    dm: (session, p, ref) => {
      this.requireIdentity(session);
      const target = this.nicks.get(nickKey(p.to));
      if (!target) throw new RequestError('no_such_user', `${p.to} is not online`);
      const text = this.admitMessage(session, p.message, `@${target.nick}`);
      this.counters.messagesIn++;
      const dm = { id: `dm-${session.id}-${Date.now().toString(36)}-${(this.dmCounter++).toString(36)}`, ts: Date.now(), from: session.nick!, to: target.nick!, message: text };
      if (target !== session) target.send('dm', dm);
      session.send('dm', dm, ref);
    },
    nick: async (session, p, ref) => {
      this.requireIdentity(session);
      // Charged before the store read; a rename is announced in every room the session is in.
      this.charge(session, this.presence, 'presenceRate', 'joins, leaves and nick changes');
      const oldName = session.nick!;
      const key = nickKey(p.user_name);
      if (p.user_name === oldName) {
        session.send('nick_changed', { old_name: oldName, user_name: oldName }, ref);
        return;
      }
      if (key !== session.nickKey) {
        const holder = this.nicks.get(key);
        if (holder && holder !== session) throw new RequestError('nick_taken', `${holder.nick} is online already`);
        const user = await this.store.getUser(key);
        if (user) throw new RequestError('nick_registered', `${user.user_name} is registered; reconnect with hello {user_name, password}`);
        if (this.nicks.has(key)) throw new RequestError('nick_taken', `${p.user_name} was just taken`);
        this.nicks.delete(session.nickKey!);
        this.nicks.set(key, session);
        session.nickKey = key;
        session.registered = false;
      }
      session.nick = p.user_name;
      session.send('nick_changed', { old_name: oldName, user_name: p.user_name }, ref);
      for (const roomId of session.rooms) this.rooms.get(roomId)?.post({ kind: 'rename', session, oldName });
    },
    rooms: (session, p, ref) => {
      this.charge(session, this.reads, 'readRate', 'reads');
      const all: RoomSummary[] = [];
      for (const room of this.rooms.values()) all.push({ room_id: room.id, room_name: room.name, members: room.memberCount });
      session.send('rooms', roomsPage(all, p ?? {}, session.replyBudget), ref);
    },
    users: (session, p, ref) => {
      const room = this.requireRoom(p.room_id);
      this.charge(session, this.reads, 'readRate', 'reads');
      room.post({ kind: 'users', session, ref });
    },
    ping: (session, p, ref) => {
      session.send('pong', { ts: p?.ts ?? Date.now(), server_ts: Date.now() }, ref);
    },
    history: (session, p, ref) => {
      const room = this.requireRoom(p.room_id);
      this.charge(session, this.reads, 'readRate', 'reads');
      const limit = Math.min(p.limit ?? 50, MAX_HISTORY_PAGE);
      room.post({ kind: 'history', session, limit, ref, ...(p.before_seq !== undefined ? { beforeSeq: p.before_seq } : {}) });
    },
    register: async (session, p, ref) => {
      this.requireIdentity(session);
      const existing = await this.store.getUser(session.nickKey!);
      if (existing && !session.registered) throw new RequestError('nick_registered', `${existing.user_name} is registered by somebody else`);
      this.admitPasswordCheck(session);
      const hash = await hashPassword(p.password);
      await this.store.putUser({ nick_key: session.nickKey!, user_name: session.nick!, password_hash: hash, created_ts: existing?.created_ts ?? Date.now() });
      session.registered = true;
      session.send('registered', { user_name: session.nick! }, ref);
    },
  };

  private dmCounter = 0;

  /**
   * The gate every message and DM passes: the sender's rate limit, then the moderation
   * filters. Returns the text to send; throws a RequestError to refuse.
   */
  private admitMessage(session: Session, text: string, target: string): string {
    if (this.options.rateLimit) {
      const limiter = (session.messageRate ??= new RateLimiter(this.options.rateLimit));
      const decision = limiter.take();
      if (!decision.ok) {
        if (decision.flooding) {
          session.send('error', protocolError('rate_limited', 'sustained flooding; disconnected'));
          this.disconnect(session, { code: 'rate_limited', message: 'sustained flooding' });
        }
        throw new RequestError('rate_limited', `too many messages; retry in ${decision.retryAfterMs} ms`, { retry_after_ms: decision.retryAfterMs });
      }
    }
    if (this.options.filters.length === 0) return text;
    const verdict = runFilters(this.options.filters, { user: session.nick!, target, text });
    if (verdict.action === 'refuse') throw new RequestError('message_refused', verdict.reason);
    return verdict.text;
  }

  private sendToRoom(session: Session, p: RequestPayload<'message'>, ref: string | number | undefined, mustBeMember: boolean): void {
    this.requireIdentity(session);
    const room = this.requireRoom(p.room_id);
    if (mustBeMember && !session.rooms.has(p.room_id)) throw new RequestError('not_in_room', `join ${p.room_id} before sending to it`);
    const text = this.admitMessage(session, p.message, p.room_id);
    this.counters.messagesIn++;
    room.post({ kind: 'message', session, text, ref, ...(p.client_msg_id !== undefined ? { clientMsgId: p.client_msg_id } : {}) });
  }

  /**
   * A one-shot message from an identified session that has not joined the room (HTTP
   * `POST /post`): the same room, size and rate checks as `message`, but no join or leave is
   * announced, so a curl user does not spam the room with notices. The stored message comes
   * back to the session carrying `message.ref`; so does an error.
   */
  postOnce(session: Session, message: Extract<ClientMessage, { type: 'message' }>): void {
    session.run(() => {
      try {
        this.sendToRoom(session, message.payload, message.ref, false);
      } catch (err) {
        this.fail(session, err, message);
      }
    });
  }

  /**
   * Subscribes a read-only session (SSE) to a room without a nick: it receives the room's
   * messages and notices but is not a member (never listed, never announced, cannot send).
   * With `sinceSeq` the messages after it are replayed first, in room order, so a resumed
   * stream has no gap and no duplicate. One room per session; throws `no_such_room`.
   */
  watch(session: Session, roomId: string, sinceSeq?: number): void {
    const room = this.requireRoom(roomId);
    if (session.closed || this.watching.has(session)) return;
    this.watching.set(session, roomId);
    room.post({ kind: 'watch', session, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
  }

  /** The room each watching session (see {@link watch}) is subscribed to. */
  private readonly watching = new Map<Session, string>();

  private sendWelcome(session: Session, ref: string | number | undefined): void {
    session.send(
      'welcome',
      {
        user_name: session.nick!,
        user_id: session.userId!,
        session_id: session.id,
        server_version: SERVER_VERSION,
        default_room: this.defaultRoom,
        registered: session.registered,
        resume_token: session.resumeToken!,
        limits: { max_message_chars: this.options.maxMessageChars, max_nick_chars: MAX_NICK_CHARS, max_history_page: MAX_HISTORY_PAGE },
      },
      ref,
    );
  }

  /**
   * True when `token` is the resume token the holder of a nick was given: the same person
   * reconnecting after a dropped link, whose old connection the server has not noticed is dead.
   */
  private ownsGhost(holder: Session, token: string | undefined): boolean {
    const expected = holder.resumeToken;
    if (token === undefined || expected === undefined) return false;
    // Digests are 32 bytes whatever the client sent: timingSafeEqual throws on unequal lengths,
    // and a string's length in UTF-16 units is not its length in UTF-8 bytes.
    return timingSafeEqual(digest(token), digest(expected));
  }

  /** Binds a nick to the session, checking collisions and registration. */
  private async bind(session: Session, userName: string, userId: string | undefined, password: string | undefined, resumeToken?: string): Promise<void> {
    const key = nickKey(userName);
    const holder = this.nicks.get(key);
    // The nick's holder is this client's own earlier connection, proved by its resume token.
    const ownGhost = holder !== undefined && this.ownsGhost(holder, resumeToken);
    if (holder && holder !== session && !ownGhost) {
      throw new RequestError('nick_taken', `${holder.nick} is online already; pick another nick`);
    }
    const user = await this.store.getUser(key);
    if (user && !(ownGhost && holder.registered)) {
      if (password === undefined) throw new RequestError('nick_registered', `${user.user_name} is registered; send hello {user_name, password}`);
      this.admitPasswordCheck(session);
      if (!(await verifyPassword(password, user.password_hash))) {
        // Each guess costs a full scrypt; a connection gets three before it is closed.
        if (++session.passwordFailures >= MAX_PASSWORD_FAILURES) {
          // After the error reply below has been queued, so the client reads why.
          setImmediate(() => this.disconnect(session, { code: 'auth_failed', message: 'too many wrong passwords' }));
          throw new RequestError('nick_registered', `wrong password for ${user.user_name}; too many attempts, disconnecting`);
        }
        throw new RequestError('nick_registered', `wrong password for ${user.user_name}`);
      }
    }
    // The checks above may have waited; the nick could have been taken meanwhile.
    const now = this.nicks.get(key);
    if (now && now !== session) {
      if (!this.ownsGhost(now, resumeToken)) throw new RequestError('nick_taken', `${now.nick} is online already; pick another nick`);
      this.disconnect(now, { code: 'replaced', message: 'you connected again from elsewhere' });
    }
    if (session.closed) return;
    session.resumeToken = randomBytes(18).toString('base64url');
    this.nicks.set(key, session);
    clearTimeout(session.identifyTimer);
    session.identifyTimer = undefined; // frees the Timeout object of every identified session
    session.nick = userName;
    session.nickKey = key;
    session.userId = userId ?? userName;
    session.registered = user !== undefined;
  }

  /** For join/create_room: binds the identity they carry, or checks the one bound already. */
  private async ensureIdentity(session: Session, userName: string | undefined, userId: string | undefined, ref: string | number | undefined): Promise<void> {
    if (session.identified) {
      if (userName !== undefined && nickKey(userName) !== session.nickKey) {
        throw new RequestError('already_identified', `this connection is ${session.nick}; use nick to rename`);
      }
      return;
    }
    if (userName === undefined) throw new RequestError('not_identified', 'send hello {user_name} first, or include user_name');
    await this.bind(session, userName, userId, undefined);
    this.sendWelcome(session, ref);
  }

  /**
   * Makes a room: the store's record first, the registry only once the write succeeded, so a
   * failed write (a full disk) leaves no half-made room that is listed but cannot take messages.
   * Requests for the same id meanwhile wait for this write instead of starting another.
   */
  private createRoom(roomId: string, name: string, createdBy: string, keep: boolean): Promise<Room> {
    const made = (async () => {
      try {
        await this.store.createRoom({ room_id: roomId, room_name: name, created_by: createdBy, created_ts: Date.now() });
        const room = this.makeRoom(roomId, name, createdBy, 0, keep);
        this.rooms.set(roomId, room);
        return room;
      } finally {
        this.creating.delete(roomId);
      }
    })();
    this.creating.set(roomId, made);
    return made;
  }

  private enter(session: Session, room: Room, sinceSeq: number | undefined, ref: string | number | undefined): void {
    if (session.closed) return;
    session.rooms.add(room.id);
    room.post({ kind: 'join', session, ref, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
  }

  /**
   * The gate before a room is made: the server-wide room cap, then the room-creation buckets of
   * the connection and of its address. The cap bounds the registry; idle expiry frees it.
   */
  private admitNewRoom(session: Session): void {
    if (this.rooms.size + this.creating.size >= this.options.maxRooms) {
      throw new RequestError('server_rooms_full', `the server holds ${this.rooms.size} rooms, its limit; join an existing room`);
    }
    this.charge(session, this.roomCreates, 'roomRate', 'new rooms');
  }

  /**
   * Takes a token of a limit kept per connection and per address; refuses with `rate_limited`
   * (and `retry_after_ms`) without one, and disconnects a client that keeps on regardless
   * (the same flood rule as for messages).
   */
  private charge(session: Session, limit: DualLimit, field: 'readRate' | 'presenceRate' | 'roomRate', what: string): void {
    const decision: RateDecision = limit.take(session, field, session.conn.remoteAddress);
    if (decision.ok) return;
    if (decision.flooding) {
      session.send('error', protocolError('rate_limited', 'sustained flooding; disconnected'));
      this.disconnect(session, { code: 'rate_limited', message: 'sustained flooding' });
    }
    throw new LimitRefusal(`too many ${what}; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);
  }

  /**
   * Charges one password check (a full scrypt) to the client's address, before it runs: a
   * client must not be able to keep the server's CPU busy hashing. Per address rather than per
   * connection, since a POST or a fresh connection would otherwise start with a full bucket.
   */
  private admitPasswordCheck(session: Session): void {
    if (!this.passwordLimiters) return;
    const decision = this.passwordLimiters.take(normaliseAddress(session.conn.remoteAddress));
    if (!decision.ok) {
      throw new RequestError('rate_limited', `too many password attempts from your address; retry in ${decision.retryAfterMs} ms`, { retry_after_ms: decision.retryAfterMs });
    }
  }

  private checkRoomQuota(session: Session): void {
    if (session.rooms.size >= this.options.maxRoomsPerUser) {
      throw new RequestError('too_many_rooms', `you are in ${session.rooms.size} rooms, the most allowed; leave one first`);
    }
  }

  private requireIdentity(session: Session): void {
    if (!session.identified) throw new RequestError('not_identified', 'send hello {user_name} first');
  }

  private requireRoom(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new RequestError('no_such_room', `there is no room ${roomId}`);
    return room;
  }

  // ---- introspection and lifecycle ---------------------------------------------------------

  /** A room by id (tests, stats). */
  room(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  /** Connected sessions by transport, identified users and rooms. */
  snapshot(): { connections: Record<TransportKind, number>; users: number; rooms: number } {
    const connections: Record<TransportKind, number> = { ws: 0, tcp: 0, sse: 0, http: 0, memory: 0 };
    for (const s of this.sessions) connections[s.conn.transport]++;
    return { connections, users: this.userCount, rooms: this.roomCount };
  }

  /** Rooms on the server (without walking the sessions, as snapshot does). */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Identified users online: nicks in use. */
  get userCount(): number {
    return this.nicks.size;
  }

  /** Every live session (shutdown notices). */
  allSessions(): Iterable<Session> {
    return this.sessions;
  }

  /** False once shutdown began: transports refuse new connections. */
  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Every client gets a `shutdown` notice, then its connection is closed (queued events are
   * flushed first by the transport).
   */
  async shutdown(message = 'the server is shutting down'): Promise<void> {
    this.accepting = false;
    clearInterval(this.expiryTimer);
    for (const session of [...this.sessions]) {
      session.send('shutdown', { reason: 'shutdown', message });
      this.disconnect(session, { code: 'shutdown', message });
    }
  }

  /** Stops accepting, waits for every room's mailbox to drain. */
  async drain(): Promise<void> {
    this.accepting = false;
    clearInterval(this.expiryTimer);
    await Promise.all([...this.rooms.values()].map((r) => r.settled()));
  }
}

/** A fixed-length digest of a secret, so comparing two takes the same time whatever they hold. */
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
