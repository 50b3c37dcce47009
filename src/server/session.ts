import type { ServerEventPayloads, ServerEventType } from '../protocol/events.js';
import type { CloseReason, Connection } from './connection.js';
import type { RateLimiter } from './limits/rate-limit.js';
import { outbound, type Outbound } from './outbound.js';

let nextId = 1;

/** The most one reply page (history, a replay page) may carry, in bytes of JSON. */
export const MAX_REPLY_BYTES = 256 * 1024;
/** The least: a connection's stream buffers 16 KiB before it asks for a `drain`. */
const MIN_REPLY_BYTES = 16 * 1024;

/** Per-session settings the hub hands in. */
export interface SessionOptions {
  /** Past this many queued bytes the client is cut as a slow consumer. */
  maxQueueBytes: number;
  /** Called once when the session must be closed for being too slow. */
  onSlowConsumer(session: Session): void;
}

/**
 * One connected client, whatever its transport: its identity, the rooms it is in and its
 * outbound path. Requests from one session are handled strictly in order (see {@link run}).
 */
export class Session {
  readonly id: string;
  /** The display nick, once identified. */
  nick: string | undefined;
  /** The collision key of the nick (see nickKey). */
  nickKey: string | undefined;
  userId: string | undefined;
  /** True when the nick is registered and this session proved it (or registered it). */
  registered = false;
  /** Rooms this session is a member of (kept by the hub in step with the room actors). */
  readonly rooms = new Set<string>();
  closed = false;
  readonly connectedAt = Date.now();
  /** When it last sent a message (room or DM), for whois's idle time; starts at connectedAt. */
  lastMessageAt = this.connectedAt;
  /** The away message while the user is away (`away`); gone with the connection. */
  away: string | undefined;
  // The hub's per-connection state: typed fields rather than a free-form bag (no casts, and no
  // extra object per idle connection).
  /** Closes a socket that never says hello; dropped once it does. */
  identifyTimer: NodeJS.Timeout | undefined;
  /** Given in `welcome`; a reconnect that presents it may take over this session's nick. */
  resumeToken: string | undefined;
  /** Wrong passwords sent on this connection. */
  passwordFailures = 0;
  /** The message rate limit, made on the first message. */
  messageRate: RateLimiter | undefined;
  /** The room-creation rate limit, made on the first new room. */
  roomRate: RateLimiter | undefined;
  /** The read rate limit (history, users, rooms, hello), made on the first read. */
  readRate: RateLimiter | undefined;
  /** The presence rate limit (join, leave, nick), made on the first change. */
  presenceRate: RateLimiter | undefined;
  /** Requests refused `rate_limited` in event-loop turn {@link refusalsTurn} (see Charges.noteRefusal in hub/charges.ts). */
  refusals = 0;
  refusalsTurn = -1;
  private tail: Promise<void> | undefined;
  private pending = 0;

  constructor(
    readonly conn: Connection,
    private readonly options: SessionOptions,
  ) {
    this.id = `s${(nextId++).toString(36)}`;
  }

  /**
   * Bytes one reply page may carry, and the low-water mark a flow-controlled replay waits for
   * before its next page: a quarter of the slow-consumer cap (at most {@link MAX_REPLY_BYTES}), so
   * a page queued on top of the mark stays far below the cap.
   */
  get replyBudget(): number {
    return Math.min(MAX_REPLY_BYTES, Math.max(MIN_REPLY_BYTES, Math.floor(this.options.maxQueueBytes / 4)));
  }

  /** Resolves once the outbound bytes fell to the reply budget, or the connection closed. */
  drained(): Promise<void> {
    return this.closed ? Promise.resolve() : this.conn.drained(this.replyBudget);
  }

  /** True once the session has a nick. */
  get identified(): boolean {
    return this.nick !== undefined;
  }

  /**
   * Delivers a shared event; cuts the client if its queue grows past the bound. The fan-out's
   * inner loop: the bound `send` returns is a counter, and the socket is asked only past it.
   */
  deliver(out: Outbound): void {
    if (this.closed) return;
    const max = this.options.maxQueueBytes;
    if (this.conn.send(out) > max && this.conn.bufferedBytes() > max) this.options.onSlowConsumer(this);
  }

  /** Sends one event to this session only (replies, errors). */
  send<T extends ServerEventType>(type: T, payload: ServerEventPayloads[T], ref?: string | number): void {
    const message = (ref === undefined ? { type, payload } : { type, payload, ref }) as Parameters<
      typeof outbound
    >[0];
    this.deliver(outbound(message));
  }

  /** Closes the connection with a reason. Idempotent. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close(reason);
  }

  /**
   * Runs request handlers one after another: a synchronous handler runs at once when nothing
   * is pending; an asynchronous one (password check, store read) holds back later requests of
   * this session until it settles, so a `join` sent right after `hello` sees the identity.
   * Requests still queued when the session closes are dropped: nobody is left to answer, and a
   * client that was cut must not keep the server busy with the work it queued.
   */
  run(task: () => void | Promise<void>): void {
    if (this.closed) return;
    if (this.pending === 0) {
      const result = task();
      if (result instanceof Promise) this.chain(result);
      return;
    }
    this.chain((this.tail ?? Promise.resolve()).then(() => (this.closed ? undefined : task())));
  }

  private chain(promise: Promise<void>): void {
    this.pending++;
    const tail = promise.finally(() => {
      this.pending--;
      if (this.tail === tail) this.tail = undefined;
    });
    this.tail = tail;
  }
}
