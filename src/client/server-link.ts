import { roomKey, sameRoom } from '../protocol/room-key.js';
import WebSocket from 'ws';
import type { ErrorCode } from '../protocol/errors.js';
import type { ServerMessage } from '../protocol/events.js';
import { DEFAULT_ROOM } from '../protocol/limits.js';
import { nickKey } from '../protocol/nick.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Outbox } from './outbox.js';
import type {
  ChatConnection,
  ConnectionSignal,
  ConnectionStatus,
  OutgoingRequest,
} from './server-link-types.js';

export type * from './server-link-types.js';

/** Settings for {@link createConnection}; only `url` and `nick` are required. */
export interface ConnectionOptions {
  url: string;
  nick: string;
  password?: string;
  /** How often to ping (and so measure lag). */
  pingIntervalMs?: number;
  /**
   * Silence longer than this (not even a pong) means the link is dead even if TCP has not
   * noticed: a hung server (SIGSTOP) keeps its sockets open and answers nothing.
   */
  deadAfterMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  now?: () => number;
}

/**
 * The real connection: one WebSocket at a time, replaced after every drop.
 *
 * It keeps the session alive across drops: after reconnecting it sends `hello` again, rejoins
 * every room with `since_seq` (the last seq it saw there, so the server replays exactly what
 * was missed) and resends chat messages the server never acknowledged, under the same
 * `client_msg_id` so a message that did arrive is not stored twice (the messages and their
 * pacing are the {@link Outbox}'s; this class says when their rooms can take them).
 */
export class WsChatConnection implements ChatConnection {
  readonly url: string;
  private nick: string;
  private password: string | undefined;
  private ws: WebSocket | null = null;
  private status: ConnectionStatus = { state: 'connecting' };
  private readonly listeners = new Set<(signal: ConnectionSignal) => void>();
  /**
   * Signals from before anybody listened: `chat connect` starts connecting while the screen code
   * is still loading, and the screen must still see the welcome and the first joins.
   */
  private backlog: ConnectionSignal[] | null = [];
  /** Rooms to be in, with the last seq seen in each (undefined: nothing seen yet). */
  private readonly rooms = new Map<string, number | undefined>();
  /**
   * Each room's `joined.epoch` (by room key), sent back with `since_seq`: a seq means something
   * only in the history of the room it was seen in.
   */
  private readonly epochs = new Map<string, string>();
  /**
   * Rooms the server confirmed (`joined`) on the current socket: a message for a room waits
   * until then, so it never races its own join.
   */
  private readonly live = new Set<string>();
  /** Join requests in flight on the current socket: ref → room, to tell which join an error refuses. */
  private readonly joinRefs = new Map<string, string>();
  /** Chat messages not acknowledged yet, by client_msg_id (also their ref), and their pacing. */
  private readonly outbox = new Outbox({
    canSendTo: (roomId) => this.canSendTo(roomId),
    write: (id, roomId, text, kind) =>
      this.write(
        {
          type: 'message',
          payload: {
            room_id: roomId,
            message: text,
            client_msg_id: id,
            ...(kind !== undefined ? { kind } : {}),
          },
        },
        id,
      ),
  });
  /** A `quit` went out (`/quit reason`): closing sends no second one. */
  private quitSent = false;
  /** Passwords of /register requests in flight, by ref: remembered only once accepted. */
  private readonly registering = new Map<string, string>();
  private identified = false;
  private everWelcomed = false;
  private started = false;
  private closed = false;
  private attempt = 0;
  private refCounter = 0;
  private helloRef: string | undefined;
  /** From the last `welcome`: lets a reconnect take our nick over from a link the server thinks is alive. */
  private resumeToken: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  /** When the unanswered ping went out (null: none outstanding); the lag shown grows from it. */
  private pingSentAt: number | null = null;
  private lastPingAt = 0;
  /** The last lag reported, so a growing wait is reported only when it exceeds it. */
  private lastLag = 0;
  /** Why the link was cut from this side (silence), for the status bar. */
  private cutReason: string | undefined;
  private readonly idPrefix: string;
  private readonly options: Required<Omit<ConnectionOptions, 'password'>>;

  constructor(options: ConnectionOptions) {
    this.options = {
      pingIntervalMs: 5_000,
      deadAfterMs: 10_000,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      now: Date.now,
      ...options,
    };
    this.url = options.url;
    this.nick = options.nick;
    this.password = options.password;
    // Unique per client run, so ids from before a client restart never collide with new ones.
    this.idPrefix = `${Date.now().toString(36)}${Math.floor(this.options.random() * 1e6).toString(36)}`;
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.open();
  }

  subscribe(listener: (signal: ConnectionSignal) => void): () => void {
    this.listeners.add(listener);
    const early = this.backlog;
    this.backlog = null;
    for (const signal of early ?? []) listener(signal);
    return () => this.listeners.delete(listener);
  }

  identify(nick: string, password?: string): void {
    this.nick = nick;
    this.password = password;
    if (this.isOpen() && !this.identified) this.sendHello();
  }

  joinRoom(roomId: string, sinceSeq?: number, epoch?: string): void {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, sinceSeq);
    if (epoch !== undefined && sinceSeq !== undefined && !this.epochs.has(roomKey(roomId)))
      this.epochs.set(roomKey(roomId), epoch);
    if (this.ready())
      this.writeJoin(sinceSeq === undefined ? { room_id: roomId } : { room_id: roomId, since_seq: sinceSeq });
  }

  leaveRoom(roomId: string): void {
    // A room whose join was refused is not on the server: telling it to leave earns an error.
    const wanted = this.rooms.delete(roomId);
    this.epochs.delete(roomKey(roomId));
    this.live.delete(roomId);
    this.outbox.forgetRoom(roomId);
    if (wanted && this.ready()) this.write({ type: 'leave', payload: { room_id: roomId } }, this.nextRef());
  }

  sendMessage(roomId: string, text: string, kind?: 'action'): string {
    const id = `${this.idPrefix}-${(this.refCounter++).toString(36)}`;
    this.outbox.add(id, roomId, text, kind);
    return id;
  }

  send(request: OutgoingRequest): string | undefined {
    if (!this.ready()) return undefined;
    const ref = this.nextRef();
    if (request.type === 'register') this.registering.set(ref, request.payload.password);
    if (request.type === 'quit') this.quitSent = true;
    this.write(request, ref);
    return ref;
  }

  close(): void {
    // Says goodbye first (once), so the rooms see a quit rather than `connection lost`.
    if (!this.quitSent && this.ready()) this.write({ type: 'quit', payload: {} }, undefined);
    this.quitSent = true;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.outbox.close();
    this.stopPing();
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => {});
    this.ws?.close(1000, 'bye');
    this.ws = null;
    this.setStatus({ state: 'closed' });
  }

  // ---- socket lifecycle ---------------------------------------------------------------------

  private open(): void {
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url, { handshakeTimeout: 5_000 });
    this.ws = ws;
    this.identified = false;
    this.live.clear();
    this.joinRefs.clear();
    this.outbox.newSocket();
    this.pingSentAt = null;
    this.cutReason = undefined;
    ws.on('open', () => {
      this.lastHeard = this.options.now();
      this.startPing();
      this.sendHello();
    });
    ws.on('message', (data) => {
      this.lastHeard = this.options.now();
      let event: ServerMessage;
      try {
        event = JSON.parse(data.toString()) as ServerMessage;
      } catch {
        return;
      }
      if (event && typeof event === 'object' && typeof event.type === 'string') this.handle(event);
    });
    // 'error' is always followed by 'close'; reconnecting happens there, with the reason.
    let failure: string | undefined;
    ws.on('error', (err) => {
      failure = err.message;
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPing();
      this.identified = false;
      const why =
        this.cutReason ??
        failure ??
        (reason.length > 0 ? reason.toString() : code === 1006 ? 'connection lost' : `closed (${code})`);
      if (!this.closed) this.scheduleReconnect(why);
    });
  }

  private scheduleReconnect(reason: string): void {
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt++;
    this.setStatus({
      state: 'reconnecting',
      attempt: this.attempt,
      retryAt: this.options.now() + delay,
      reason,
    });
    this.retryTimer = setTimeout(() => {
      if (this.closed) return;
      this.setStatus({ state: 'connecting' });
      this.open();
    }, delay);
  }

  /**
   * One timer checks the link every second (or faster for short intervals): it pings every
   * `pingIntervalMs`, reports the lag growing while a ping is unanswered (so a hung server shows
   * `lag 4000 ms`, not the last good sample), and cuts a link silent for `deadAfterMs`.
   */
  private startPing(): void {
    this.stopPing();
    this.lastPingAt = this.options.now();
    const tickMs = Math.max(10, Math.min(1_000, this.options.pingIntervalMs, this.options.deadAfterMs / 4));
    this.pingTimer = setInterval(() => this.tick(), tickMs);
    this.pingTimer.unref?.();
  }

  private tick(): void {
    const now = this.options.now();
    if (now - this.lastHeard > this.options.deadAfterMs) {
      // Nothing heard, not even a pong: the link is dead though TCP has not said so.
      this.cutReason = `no answer from the server for ${Math.round((now - this.lastHeard) / 1000)}s`;
      this.stopPing();
      this.ws?.terminate();
      return;
    }
    if (this.pingSentAt !== null) {
      const waited = now - this.pingSentAt;
      if (waited > this.lastLag) {
        this.lastLag = waited;
        this.emit({ kind: 'lag', ms: waited });
      }
      return;
    }
    if (now - this.lastPingAt >= this.options.pingIntervalMs) this.sendPing();
  }

  private sendPing(): void {
    const ts = this.options.now();
    this.lastPingAt = ts;
    this.pingSentAt = ts;
    this.write({ type: 'ping', payload: { ts } }, undefined);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  // ---- protocol -----------------------------------------------------------------------------

  private sendHello(): void {
    this.helloRef = this.nextRef();
    const payload = {
      user_name: this.nick,
      ...(this.password === undefined ? {} : { password: this.password }),
      ...(this.resumeToken === undefined ? {} : { resume_token: this.resumeToken }),
    };
    this.write({ type: 'hello', payload }, this.helloRef);
  }

  private handle(event: ServerMessage): void {
    if (event.ref !== undefined && event.ref === this.helloRef) {
      this.helloRef = undefined;
      if (event.type === 'error') {
        this.setStatus({ state: 'identifying' });
        this.emit({
          kind: 'nick_rejected',
          nick: this.nick,
          code: event.payload.code,
          message: event.payload.message,
        });
        return;
      }
    }
    switch (event.type) {
      case 'welcome':
        this.resumeToken = event.payload.resume_token;
        this.emit({ kind: 'event', event });
        this.welcomed(event.payload.user_name, event.payload.default_room);
        return;
      case 'message': {
        this.seen(event.payload.room_id, event.payload.seq);
        if (event.payload.client_msg_id !== undefined && event.ref === event.payload.client_msg_id)
          this.outbox.settled(event.payload.client_msg_id);
        break;
      }
      case 'history':
        for (const m of event.payload.messages) this.seen(event.payload.room_id, m.seq);
        break;
      case 'joined': {
        // The answer to a join the user took back (/join then /leave at once): the leave that
        // follows takes us out again, so the room must not reappear meanwhile.
        // Asked for in another case (`/join DEV` for #dev): the room's own spelling from now on.
        this.adoptSpelling(event.payload.room_id);
        if (!this.rooms.has(event.payload.room_id)) {
          if (event.ref !== undefined) this.joinRefs.delete(String(event.ref));
          return;
        }
        this.roomLive(event.payload.room_id, event.ref);
        // With another epoch the server answered with the room's latest page, not a replay; the
        // seqs held are from another history, and those that follow count in this one.
        if (event.payload.epoch !== undefined) {
          const before = this.epochs.get(roomKey(event.payload.room_id));
          this.epochs.set(roomKey(event.payload.room_id), event.payload.epoch);
          if (before !== undefined && before !== event.payload.epoch)
            this.rooms.set(event.payload.room_id, undefined);
        }
        const last = this.rooms.get(event.payload.room_id);
        if (last !== undefined && event.payload.last_seq < last) {
          // The server lost this room's history (restarted without storage) and its seq starts
          // over, so our since_seq means nothing: forget it and join again for the latest page.
          this.rooms.set(event.payload.room_id, undefined);
          this.emit({ kind: 'event', event });
          this.writeJoin({ room_id: event.payload.room_id });
          return;
        }
        break;
      }
      case 'error': {
        if (event.ref === undefined) break;
        const joining = this.joinRefs.get(String(event.ref));
        if (joining !== undefined) {
          this.joinRefused(joining, String(event.ref), event.payload.code, event.payload.message);
          return;
        }
        // Too fast (a pasted block): it waits, still shown as sending, and goes again later.
        if (
          event.payload.code === 'rate_limited' &&
          this.outbox.rateLimited(String(event.ref), event.payload.retry_after_ms)
        )
          return;
        // Any other refusal is final: the user sees why.
        this.outbox.settled(String(event.ref));
        break;
      }
      case 'nick_changed':
        if (event.payload.room_id === undefined && nickKey(event.payload.old_name) === nickKey(this.nick)) {
          if (nickKey(event.payload.user_name) !== nickKey(this.nick)) this.password = undefined;
          this.nick = event.payload.user_name;
        }
        break;
      case 'registered': {
        const password = event.ref === undefined ? undefined : this.registering.get(String(event.ref));
        if (password !== undefined) this.password = password;
        this.registering.clear();
        break;
      }
      case 'pong':
        if (typeof event.payload.ts === 'number') {
          if (this.pingSentAt !== null && event.payload.ts >= this.pingSentAt) this.pingSentAt = null;
          this.lastLag = Math.max(0, this.options.now() - event.payload.ts);
          this.emit({ kind: 'lag', ms: this.lastLag });
        }
        break;
      default:
        break;
    }
    this.emit({ kind: 'event', event });
  }

  private welcomed(nick: string, defaultRoom: string): void {
    this.nick = nick;
    this.identified = true;
    this.attempt = 0;
    this.setStatus({ state: 'connected' });
    if (!this.everWelcomed) {
      // Everybody starts in the default room, listed first, whatever was asked for before.
      const room = defaultRoom || DEFAULT_ROOM;
      const asked = [...this.rooms].filter(([id]) => id !== room);
      this.rooms.clear();
      this.rooms.set(room, undefined);
      for (const [id, seq] of asked) this.rooms.set(id, seq);
    }
    this.everWelcomed = true;
    // Unacknowledged messages follow as each room's `joined` comes back (see roomLive): sent
    // straight after the join, one could be handled before it and refused as not_in_room.
    for (const [roomId, lastSeq] of this.rooms)
      this.writeJoin(lastSeq === undefined ? { room_id: roomId } : { room_id: roomId, since_seq: lastSeq });
    this.outbox.flush();
    // A first lag sample now, rather than one ping interval later.
    this.sendPing();
  }

  /** The server has us in `roomId` on this socket: send what waited for that, in order. */
  private roomLive(roomId: string, ref: string | number | undefined): void {
    if (ref !== undefined) this.joinRefs.delete(String(ref));
    if (this.live.has(roomId)) return;
    this.live.add(roomId);
    this.outbox.flush();
  }

  /** A join was refused: stop rejoining the room and drop what waited for it; the owner says why. */
  private joinRefused(roomId: string, ref: string, code: ErrorCode, message: string): void {
    this.joinRefs.delete(ref);
    // A room left meanwhile is nobody's concern any more.
    if (!this.rooms.delete(roomId)) return;
    this.outbox.refuseRoom(roomId);
    this.emit({ kind: 'join_failed', roomId, code, message });
  }

  /**
   * A message goes out once its room is confirmed on this socket. A room we never asked for
   * (or were refused) is tried at once, so the server's error tells the user why.
   */
  private canSendTo(roomId: string): boolean {
    return this.ready() && (this.live.has(roomId) || !this.rooms.has(roomId));
  }

  private writeJoin(payload: { room_id: string; since_seq?: number; epoch?: string }): void {
    const epoch = payload.since_seq !== undefined ? this.epochs.get(roomKey(payload.room_id)) : undefined;
    if (epoch !== undefined) payload = { ...payload, epoch };
    const ref = this.nextRef();
    this.joinRefs.set(ref, payload.room_id);
    this.write({ type: 'join', payload }, ref);
  }

  private seen(roomId: string, seq: number): void {
    if (!this.rooms.has(roomId)) return;
    const last = this.rooms.get(roomId);
    if (last === undefined || seq > last) this.rooms.set(roomId, seq);
  }

  /** Re-keys a room asked for as `DEV` to the server's `dev` (rooms compare without case). */
  private adoptSpelling(roomId: string): void {
    if (this.rooms.has(roomId)) return;
    const asked = [...this.rooms.keys()].find((id) => sameRoom(id, roomId));
    if (asked === undefined) return;
    this.rooms.set(roomId, this.rooms.get(asked));
    this.rooms.delete(asked);
    this.outbox.renameRoom(asked, roomId);
  }

  private write(request: OutgoingRequest, ref: string | undefined): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(ref === undefined ? request : { ...request, ref }));
  }

  private nextRef(): string {
    return `r${(this.refCounter++).toString(36)}`;
  }

  private isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  private ready(): boolean {
    return this.identified && this.isOpen();
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.emit({ kind: 'status', status });
  }

  private emit(signal: ConnectionSignal): void {
    if (this.backlog) this.backlog.push(signal);
    for (const listener of [...this.listeners]) listener(signal);
  }

  /** The current status (for a listener that subscribed late). */
  currentStatus(): ConnectionStatus {
    return this.status;
  }
}

/**
 * Creates a reconnecting connection. It may be started before anybody subscribes: what it
 * reports meanwhile is kept and handed to the first subscriber.
 */
export function createConnection(options: ConnectionOptions): WsChatConnection {
  return new WsChatConnection(options);
}
