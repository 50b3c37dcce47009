import { decodeClientFrame, type DecodeOptions } from '../protocol/codec.js';
import { protocolError, RequestError, type ProtocolError } from '../protocol/errors.js';
import type { ClientMessage } from '../protocol/schema.js';
import type { ServerEventPayloads } from '../protocol/events.js';
import type { CloseReason, Connection, TransportKind } from './connection.js';
import { Charges, LimitRefusal } from './hub/charges.js';
import { runHandler, type HandlerEntry, type HubContext, type HubCounters } from './hub/handler.js';
import { HANDLERS, POST_ONCE } from './hub/handlers.js';
import { Identities } from './hub/identity.js';
import { whoisAnswer } from './hub/life.js';
import { heldNicks, matchingNicks, whoAnswers } from './hub/who.js';
import { resolveHubOptions, type HubOptions, type ResolvedHubOptions } from './hub/options.js';
import { RoomRegistry } from './hub/rooms.js';
import type { Room } from './room.js';
import { Session, type SessionOptions } from './session.js';
import { clusterProtocolError } from './cluster/errors.js';
import type { ClusterStats, WhoisAnswer } from './cluster/engine.js';
import type { Store } from './store/store-types.js';

export { SERVER_VERSION } from './hub/identity.js';
export type { HubOptions } from './hub/options.js';

/**
 * The hub: the registry of sessions (and, through its parts, of rooms and nicks), the entry
 * points every transport calls, and the lifecycle. A request is decoded here, checked against
 * its entry in the handler table (src/server/hub/handlers.ts) and handled there; room work goes
 * to the room actors, and the hub never touches a room's members or seq itself.
 *
 * Its parts, under src/server/hub/: `rooms.ts` (the rooms, made store-first, and idle expiry),
 * `identity.ts` (nicks, ghosts, renames, registration, password checks), `charges.ts` (rate
 * limits, the message gate, the refusal cut), `handler.ts` (what a table entry declares and the
 * one place that checks it), `options.ts` (settings and their defaults).
 */
export class Hub {
  readonly store: Store;
  readonly defaultRoom: string;
  /** Counters for stats and metrics. */
  readonly counters: HubCounters = { messagesIn: 0, framesIn: 0, errorsOut: 0, slowConsumers: 0 };
  private readonly options: ResolvedHubOptions;
  private readonly decodeOptions: DecodeOptions;
  private readonly sessions = new Set<Session>();
  /** The room each watching session (see {@link watch}) is subscribed to. */
  private readonly watching = new Map<Session, string>();
  private readonly rooms: RoomRegistry;
  private readonly identities: Identities;
  private readonly nickWatchers = new Set<(nick: string, online: boolean) => void>();
  private readonly charges: Charges;
  /** What the handlers are given. */
  private readonly context: HubContext;
  private accepting = true;

  constructor(options: HubOptions) {
    this.options = resolveHubOptions(options);
    this.store = options.store;
    this.defaultRoom = this.options.defaultRoom;
    this.decodeOptions = { maxMessageChars: this.options.maxMessageChars };
    this.sessionOptions.maxQueueBytes = this.options.maxQueueBytes;
    const disconnect = (session: Session, reason: CloseReason): void => this.disconnect(session, reason);
    this.identities = new Identities(this.store, this.options, disconnect);
    this.charges = new Charges(this.options, disconnect);
    this.rooms = new RoomRegistry(this.options, (createdBy) => this.identities.isRegistered(createdBy));
    // MONITOR: nicks coming online and going, this node's (one node) or every node's (cluster).
    const tell = (nick: string, online: boolean): void => {
      for (const watcher of this.nickWatchers) watcher(nick, online);
    };
    if (options.engine) options.engine.on('nick', (e) => tell(e.nick, e.online));
    else this.identities.onNick = tell;
    // Cluster mode: Redis lost its data (restarted empty). Rooms, history and nicks are gone.
    options.engine?.on('epoch', () =>
      this.historyReplaced().catch((err: unknown) =>
        this.options.onInternalError?.(err, 'starting over after Redis lost its data'),
      ),
    );
    // Cluster mode: this node was reaped while paused or cut off (its lease lapsed).
    options.engine?.on('lapsed', () => this.lapsed());
    // Cluster mode: a DM sent on another node to a nick held here.
    options.engine?.on('node', (event) => {
      if (event.t === 'whois') return this.answerWhois(event);
      if (event.t === 'kill' && typeof event.nick_key === 'string') {
        // A server operator on another node disconnected a user of this one.
        const target = this.identities.holding(event.nick_key);
        if (target && target.id === event.session && !target.closed) {
          const killed = { code: 'killed' as const, message: String(event.message) };
          target.send('error', killed);
          this.disconnect(target, { ...killed, by: typeof event.by === 'string' ? event.by : '?' });
        }
        return;
      }
      if (event.t === 'invited' && typeof event.nick_key === 'string') {
        this.invitedElsewhere(event.nick_key, event.session, event.payload as ServerEventPayloads['invited']);
        return;
      }
      if (event.t !== 'dm' || typeof event.nick_key !== 'string') return;
      const target = this.identities.holding(event.nick_key);
      if (target && target.id === event.session && !target.closed)
        target.send('dm', { ...(event.dm as ServerEventPayloads['dm']), to: target.nick });
    });
    this.context = {
      options: this.options,
      rooms: this.rooms,
      identities: this.identities,
      charges: this.charges,
      counters: this.counters,
      disconnect,
    };
  }

  /**
   * Cluster mode: an operator on another node invited a user of this one. The room is opened
   * here (if it was not) and takes the invitation before the user hears of it, so the join the
   * user makes next through this node is let in.
   */
  private invitedElsewhere(key: string, session: unknown, payload: ServerEventPayloads['invited']): void {
    const target = this.identities.holding(key);
    if (!target || target.id !== session || target.closed) return;
    const { engine } = this.options;
    void this.rooms
      .load(payload.room_id)
      .then((room) => {
        room?.post({
          kind: 'notice',
          notice: { node: engine!.nodeId, type: 'invite', payload: { room_id: payload.room_id, key } },
        });
        if (!target.closed) target.send('invited', payload);
      })
      .catch((err: unknown) => this.options.onInternalError?.(err, 'taking an invitation from another node'));
  }

  /** Cluster mode: another node's whois for a user of this node (undefined: not here any more). */
  private answerWhois(event: { [field: string]: unknown }): void {
    const { id, from, nick_key: key, session, rooms } = event;
    if (typeof id !== 'string' || typeof from !== 'string' || typeof key !== 'string') return;
    const target = this.identities.holding(key);
    const answer =
      target && target.id === session && !target.closed
        ? whoisAnswer(target, Array.isArray(rooms) ? rooms.filter((r) => typeof r === 'string') : [])
        : undefined;
    void this.options
      .engine!.answerWhois(from, id, answer)
      .catch((err: unknown) => this.options.onInternalError?.(err, 'answering a whois from another node'));
  }

  /** Loads the rooms from the store and makes sure the default room exists. */
  async init(): Promise<void> {
    await this.rooms.init();
  }

  // ---- sessions ----------------------------------------------------------------------------

  /** Shared by every session (one object, not one closure per connection: idle memory). */
  private readonly sessionOptions: SessionOptions = {
    maxQueueBytes: 0, // set in the constructor, once the options are known
    onSlowConsumer: (s) => {
      this.counters.slowConsumers++;
      this.disconnect(s, {
        code: 'slow_consumer',
        message: 'you fell too far behind; reconnect and resume from history',
      });
    },
  };

  /** Registers a new connection and returns its session. */
  connect(conn: Connection): Session {
    const session = new Session(conn, this.sessionOptions);
    this.sessions.add(session);
    // Read-only and one-shot doors (SSE, POST) identify differently; sockets must say who they are.
    if (
      this.options.identifyTimeoutMs > 0 &&
      (conn.transport === 'ws' || conn.transport === 'tcp' || conn.transport === 'irc')
    ) {
      const timer = setTimeout(() => {
        if (!session.identified) {
          this.disconnect(session, {
            code: 'identify_timeout',
            message: `no hello within ${this.options.identifyTimeoutMs / 1000} s`,
          });
        }
      }, this.options.identifyTimeoutMs);
      timer.unref();
      session.identifyTimer = timer;
    }
    return session;
  }

  /**
   * Ends a session: frees its nick, leaves its rooms (members see a quit and why), closes the
   * connection. The reason members read: a `quit` request's own words (code `quit`, the text in
   * `message`), `connection lost` when the client just went away, else the close code.
   */
  disconnect(session: Session, reason: CloseReason): void {
    if (!this.sessions.delete(session)) return;
    clearTimeout(session.identifyTimer);
    session.close(reason);
    // A quit's and a kill's reason are words (`see you`, `killed by alice: spamming`); others are codes.
    const why =
      reason.code === 'quit' || reason.code === 'killed'
        ? reason.message
        : reason.code === 'client_closed'
          ? 'connection lost'
          : reason.code;
    this.release(session, why, reason.code === 'killed' ? reason.by : undefined);
  }

  /** The client went away (socket closed): same as disconnect, but there is nobody to tell. */
  gone(session: Session): void {
    this.disconnect(session, { code: 'client_closed', message: 'connection closed' });
  }

  private release(session: Session, why: string, killedBy?: string): void {
    this.identities.release(session);
    const killed = killedBy !== undefined ? { killedBy } : {};
    for (const roomId of session.rooms)
      this.rooms
        .get(roomId)
        ?.post({ kind: 'leave', session, reason: why, quit: true, ref: undefined, ...killed });
    session.rooms.clear();
    const watched = this.watching.get(session);
    if (watched !== undefined) {
      this.watching.delete(session);
      this.rooms.get(watched)?.post({ kind: 'unwatch', session });
    }
  }

  // ---- requests ----------------------------------------------------------------------------

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
    session.run(() => this.handle(session, HANDLERS[message.type], message));
  }

  /**
   * A one-shot message from an identified session that has not joined the room (HTTP
   * `POST /post`): the same room, size and rate checks as `message`, but no join or leave is
   * announced, so a curl user does not spam the room with notices. The stored message comes
   * back to the session carrying `message.ref`; so does an error.
   */
  postOnce(session: Session, message: Extract<ClientMessage, { type: 'message' }>): void {
    session.run(() => this.handle(session, POST_ONCE, message));
  }

  /**
   * Why a read-only stream from this address may not watch the room, if it may not: it has no
   * nick, but an address ban keeps it out, and an invite-only room is not for anonymous readers.
   */
  watchRefusal(roomId: string, address: string): ProtocolError | undefined {
    const room = this.rooms.get(roomId);
    if (!room) return undefined;
    if (room.policy.banForAddress(address)) return protocolError('banned', `you are banned from ${roomId}`);
    if (room.policy.modes.invite_only)
      return protocolError('invite_only', `${roomId} is invite-only; join it with an invitation instead`);
    return undefined;
  }

  /**
   * Subscribes a read-only session (SSE) to a room without a nick: it receives the room's
   * messages and notices but is not a member (never listed, never announced, cannot send).
   * With `sinceSeq` the messages after it are replayed first, in room order, so a resumed
   * stream has no gap and no duplicate. One room per session; throws `no_such_room`.
   */
  watch(session: Session, roomId: string, sinceSeq?: number): void {
    const room = this.rooms.require(roomId);
    this.watchRoom(session, room, sinceSeq);
  }

  /** As watch, for a room found with findRoom (cluster mode: made here on first use). */
  watchRoom(session: Session, room: Room, sinceSeq?: number): void {
    const refused = this.watchRefusal(room.id, session.conn.remoteAddress);
    if (refused) throw new RequestError(refused.code, refused.message);
    if (session.closed || this.watching.has(session)) return;
    this.watching.set(session, room.id);
    room.post({ kind: 'watch', session, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
  }

  /** Runs a request through its table entry; every failure becomes an `error` reply. */
  private handle(session: Session, entry: HandlerEntry, message: ClientMessage): void | Promise<void> {
    canonicalRoomId(message, this.rooms);
    try {
      const result = runHandler(entry, this.context, session, message.payload as never, message.ref);
      if (result instanceof Promise) return result.catch((err: unknown) => this.fail(session, err, message));
    } catch (err) {
      this.fail(session, err, message);
    }
  }

  private fail(session: Session, err: unknown, message: ClientMessage): void {
    this.counters.errorsOut++;
    if (err instanceof RequestError) {
      session.send('error', err.error, message.ref);
      if (err instanceof LimitRefusal) this.charges.noteRefusal(session);
      return;
    }
    const cluster = clusterProtocolError(err);
    if (cluster) return session.send('error', cluster, message.ref);
    this.options.onInternalError?.(err, `handling ${message.type}`);
    session.send('error', protocolError('internal_error'), message.ref);
  }

  // ---- introspection and lifecycle ---------------------------------------------------------

  /** A room by id (tests, stats). */
  room(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  /** A room by id; in cluster mode also one another node made (its actor is made here). */
  findRoom(roomId: string): Promise<Room | undefined> {
    return this.rooms.load(roomId);
  }

  /** Connected sessions by transport, identified users and rooms. */
  snapshot(): { connections: Record<TransportKind, number>; users: number; rooms: number } {
    const connections: Record<TransportKind, number> = { ws: 0, tcp: 0, irc: 0, sse: 0, http: 0, memory: 0 };
    for (const s of this.sessions) connections[s.conn.transport]++;
    return { connections, users: this.userCount, rooms: this.roomCount };
  }

  /** Cluster mode: this node's id and its Redis link state (`/health`); undefined on one node. */
  get cluster(): { nodeId: string; redis: 'up' | 'down' } | undefined {
    const { engine } = this.options;
    return engine ? { nodeId: engine.nodeId, redis: engine.state } : undefined;
  }

  /**
   * Cluster mode: the whole cluster's figures (`/stats`, `/metrics`); undefined on one node, or
   * when Redis cannot answer (the caller shows `redis: down`).
   */
  async clusterStats(): Promise<ClusterStats | undefined> {
    const { engine } = this.options;
    if (!engine || engine.state === 'down') return undefined;
    return engine.clusterStats().catch(() => undefined);
  }

  /** Rooms on the server (without walking the sessions, as snapshot does). */
  get roomCount(): number {
    return this.rooms.size;
  }

  /**
   * The display nick of the user online under `name` (compared as nicks collide), if any: what
   * the IRC door's WHOIS, ISON and USERHOST ask. Never throws (a name that is no nick is nobody).
   */
  onlineNick(name: string): string | undefined {
    try {
      return this.identities.online(name)?.nick;
    } catch {
      return undefined;
    }
  }

  /** MONITOR: `watcher` hears every nick that comes online or goes, on any node. */
  watchNicks(watcher: (nick: string, online: boolean) => void): void {
    this.nickWatchers.add(watcher);
  }

  /** MONITOR: the display nick of each name if it is online on any node, in order. */
  heldNicks(names: string[]): Promise<(string | undefined)[]> {
    return heldNicks(this.identities, this.options.engine, names);
  }

  /** WHO with a mask: the nicks online on any node that pass `test`, at most `limit` (see hub/who.ts). */
  nicksMatching(test: (nick: string) => boolean, limit: number): Promise<string[]> {
    return matchingNicks(this.identities, this.options.engine, test, limit);
  }

  /** WHO: what whois says of each nick (rooms apart), wherever it is held; undefined when gone. */
  whoAnswers(names: string[], rooms: string[] = []): Promise<(WhoisAnswer | undefined)[]> {
    return whoAnswers(this.identities, this.options.engine, names, rooms);
  }

  /** The nicks online on this node (the IRC door maps the `_` it shows back through them). */
  nicksHere(): IterableIterator<string> {
    return this.identities.nicksHere();
  }

  /** Identified users online: nicks in use. */
  get userCount(): number {
    return this.identities.count;
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
    this.rooms.stop();
    for (const session of [...this.sessions]) {
      session.send('shutdown', { reason: 'shutdown', message });
      this.disconnect(session, { code: 'shutdown', message });
    }
  }

  /**
   * Cluster mode, after Redis lost its data: every client is told (`shutdown`, reason
   * `history_replaced`) and disconnected, and the room actors start over from the new epoch. A
   * client that comes back with its old since_seq gets `recovered: false` (the new epoch's seqs
   * start above every old one, so none is reused).
   */
  private async historyReplaced(): Promise<void> {
    const message = 'the cluster lost its history (Redis restarted empty); reconnect';
    for (const session of [...this.sessions]) {
      session.send('shutdown', { reason: 'history_replaced', message });
      this.disconnect(session, { code: 'history_replaced', message });
    }
    await this.rooms.reset();
  }

  /**
   * Cluster mode: another node reaped this one (its lease lapsed: the process was paused or cut
   * off from Redis for longer than the lease). Its users already left every room on the other
   * nodes and their nicks are free, so somebody else may hold them now: every session here is
   * told (`shutdown`, reason `node_lapsed`) and closed, and its client reconnects and resumes
   * (with its resume token it takes its nick back at once), so nick uniqueness and presence are
   * true again. Sessions leave through the usual path; their presence is already gone.
   */
  private lapsed(): void {
    const message = 'this server lost touch with the cluster for too long; reconnect';
    for (const session of [...this.sessions]) {
      session.send('shutdown', { reason: 'node_lapsed', message });
      this.disconnect(session, { code: 'node_lapsed', message });
    }
  }

  /** Stops accepting, waits for every room's mailbox to drain. */
  async drain(): Promise<void> {
    this.accepting = false;
    this.rooms.stop();
    await Promise.all([...this.rooms.all()].map((r) => r.settled()));
    await this.rooms.detachAll();
    await this.identities.settled();
  }
}

/**
 * A request naming an existing room in another case (`DEV` for `dev`) is rewritten to the room's
 * own spelling before any handler sees it: membership (`Session.rooms`), replies and events then
 * use one id, whatever the client typed. A room that does not exist keeps the client's spelling
 * (a join makes it so).
 */
function canonicalRoomId(message: ClientMessage, rooms: RoomRegistry): void {
  const payload = message.payload as { room_id?: unknown } | null;
  if (payload === null || typeof payload.room_id !== 'string') return;
  const room = rooms.get(payload.room_id);
  if (room) payload.room_id = room.id;
}
