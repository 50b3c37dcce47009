import type {
  ChatMessage,
  MessageKind,
  RoomRole,
  ServerEventPayloads,
  ServerMessage,
  UserInfo,
} from '../protocol/events.js';
import { protocolError, RequestError } from '../protocol/errors.js';
import { HISTORY_ON_JOIN } from '../protocol/limits.js';
import { outbound } from './outbound.js';
import { newestWithin, readReplayPage } from './reply-pages.js';
import { moderate, type ModAction, type ModeratedRoom, type RemoteMember } from './room-moderation.js';
import { nickKey } from '../protocol/nick.js';
import {
  admissionError,
  defaultSettings,
  RoomPolicy,
  storedSettings,
  withoutSessionOp,
} from './room-modes.js';
import type { Session } from './session.js';
import type { AppendRecord, RoomSettings, Store } from './store/store-types.js';
import type { CommitOutcome, Draft, Engine, FeedHandle, FeedNotice, Presence } from './cluster/engine.js';
import { clusterProtocolError } from './cluster/errors.js';
import { RemotePresence } from './cluster/remote-presence.js';

type Ref = string | number | undefined;

type MessageEvent = Extract<RoomEvent, { kind: 'message' }>;

/**
 * A since_seq replay under way for one session (member or watcher). While it exists the session
 * gets no live `message` of this room: everything after `cursor` is read from the store instead,
 * a page at a time, until the cursor reaches the room's seq (see Room.replayStep).
 */
interface Replay {
  /** The highest seq sent to the session so far. */
  cursor: number;
  /** False once a page found retention had dropped messages the replay owed; stays false. */
  recovered: boolean;
  /** Messages the session itself sent meanwhile; committed once the replay handed over to live. */
  deferred: MessageEvent[];
  /** The ref of the join that asked for it, for an error that ends it. */
  ref: Ref;
}

/** The events a room's mailbox accepts. Only the room reads or changes its members and seq. */
export type RoomEvent =
  | {
      kind: 'join';
      session: Session;
      sinceSeq?: number;
      ref: Ref;
      /** Cluster mode: already held back once until the feed reached sinceSeq (see catchUpFirst). */
      caughtUp?: boolean;
    }
  | { kind: 'leave'; session: Session; reason?: string; quit?: boolean; killedBy?: string; ref: Ref }
  | {
      kind: 'message';
      session: Session;
      text: string;
      clientMsgId?: string;
      /** Absent for plain speech. */
      msgKind?: MessageKind;
      ref: Ref;
    }
  | { kind: 'history'; session: Session; beforeSeq?: number; limit: number; ref: Ref }
  | { kind: 'users'; session: Session; ref: Ref }
  /** An operator's change (role, kick, ban, invite, modes): see room-moderation.ts. */
  | { kind: 'moderate'; session: Session; action: ModAction; ref: Ref }
  | { kind: 'rename'; session: Session; oldName: string }
  /** The session logged in or out (registered its nick, renamed away from it): `user_account`. */
  | { kind: 'account'; session: Session }
  /** The member went away or came back (its `away` field says which): told to the others. */
  | { kind: 'away'; session: Session }
  | { kind: 'watch'; session: Session; sinceSeq?: number; caughtUp?: boolean }
  | { kind: 'unwatch'; session: Session }
  /** The next page of a replay (posted by the replay itself once the session's buffer drained). */
  | { kind: 'replay'; session: Session; replay: Replay }
  /**
   * Asks an empty room to end itself (posted by the hub's expiry sweep). Decided in the mailbox,
   * so no join can slip between the check and the removal: see Room.handleExpire.
   */
  | {
      kind: 'expire';
      idleMs: number;
      remove: () => Promise<void>;
      /** Cluster mode: the room was already removed from Redis (by some node's sweep): end it whatever its state. */
      force?: boolean;
    }
  /** Cluster mode: committed messages the room's feed brought, in seq order (see attachFeed). */
  | { kind: 'deliver'; messages: ChatMessage[] }
  /** Cluster mode: a presence notice made by another node. */
  | { kind: 'notice'; notice: FeedNotice }
  /** Cluster mode: seqs after `after` up to `to` are no longer in the shared log (retention). */
  | { kind: 'gap'; after: number; to: number }
  /** Cluster mode: the shared presence, read again after the subscriber link came back. */
  | { kind: 'presence'; members: Presence[] }
  /** Cluster mode: members any ban covers leave (a new ban whose ban_changed never came). */
  | { kind: 'bans' }
  /** A session operator (`node:session`) is no longer one: its session left the room. */
  | { kind: 'unop'; sessionRef: string };

/** Cluster mode: a sender waiting for its message to come round the feed, to be acknowledged in seq order. */
interface PendingAck {
  session: Session;
  ref: Ref;
  message: ChatMessage;
}

/** Hooks the room reports through (metrics, message counters); all optional. */
export interface RoomObserver {
  /**
   * A commit of `count` messages (0 when all were retries) took `commitMs`; `deliveries` counts
   * what it queued to clients at once, undefined on a cluster node (it delivers from its feed,
   * reported by onMessagesDelivered).
   */
  onMessagesCommitted?(count: number, deliveries: number | undefined, commitMs: number): void;
  /** A cluster node delivered `messages` from its room feed to `deliveries` local recipients. */
  onMessagesDelivered?(messages: number, deliveries: number): void;
}

/**
 * Messages a session may send to a room while its replay of that room is under way; they wait
 * for the replay (their seq must come after it), so a client that stalls its replay cannot
 * make the room hold an unbounded queue.
 */
const MAX_DEFERRED = 100;
/** How many recent idempotency keys a room remembers without asking the store. */
const RECENT_IDS = 1024;
/**
 * A draining room gives the event loop back after this much work (whichever comes first), so
 * one busy room cannot stall other rooms, sockets, SSE and HTTP: store reads and SQLite commits
 * are synchronous underneath, so awaiting them alone never yields.
 */
const SLICE_MS = 8;
const SLICE_EVENTS = 64;
/** Kinds of event that are only worth doing for a session still connected. */
const FOR_LIVE_SESSIONS = new Set<RoomEvent['kind']>([
  'join',
  'history',
  'users',
  'watch',
  'replay',
  'rename',
  'account',
  'away',
  'moderate',
]);

let idCounter = 0;
const idPrefix = Date.now().toString(36);

/** A globally unique, roughly time-ordered message id. */
function newMessageId(): string {
  return `${idPrefix}-${(idCounter++).toString(36)}`;
}

/**
 * A room actor. Every request that touches the room becomes an event in its mailbox; the room
 * handles them one at a time, so its member set and its `seq` counter have one owner and
 * every member sees one order. Messages are acknowledged (broadcast, sender included) only
 * after the store committed them; consecutive messages in the mailbox are committed as one batch.
 */
export class Room {
  /** Members in join order (a Set keeps insertion order: `users` lists them so). */
  private readonly members = new Set<Session>();
  /** Read-only subscribers (SSE): they get every broadcast but are not members (never listed or announced). */
  private readonly watchers = new Set<Session>();
  private readonly mailbox: RoomEvent[] = [];
  private draining = false;
  /**
   * Time the current drain slice spent waiting for appends to commit: not the room's own work
   * (the event loop ran meanwhile), so it does not count towards the slice. Under load the commit
   * is the first step of a paced write flush; counted, it ended the slice at every commit and the
   * messages queued behind the batch waited one more flush.
   */
  private commitWaitMs = 0;
  /**
   * Cluster mode: commits sent and not answered yet. The mailbox does not wait for them: a node's
   * commits go to Redis in rounds timed by the WebSocket door's flush, so waiting would hold the
   * room's deliveries (and every message behind the batch) for a flush interval. Each commit's
   * seqs are assigned by Redis in the order rounds are sent, and the engine routes the room's
   * batches only when no round is in flight, so a commit's answer (its acknowledgements) is
   * handled before the batch that delivers it.
   */
  private readonly commitsInFlight = new Set<Promise<void>>();
  private readonly recentIds = new Map<string, ChatMessage>();
  /** Replays under way, by session; see {@link Replay}. */
  private readonly replays = new Map<Session, Replay>();
  private lastSeq: number;
  /** When the room last had nobody in it (members and watchers), for idle expiry. */
  private emptySince = Date.now();
  /** True once expired: the hub dropped it, and it answers anything still sent to it with no_such_room. */
  private expired = false;
  /**
   * Cluster mode (see attachFeed): the shared engine and this room's feed. Messages are then
   * committed by the engine and delivered from the feed, through the mailbox, so `lastSeq` is
   * the room's delivery watermark on this node and every member on every node sees one order.
   */
  private cluster: { engine: Engine; feed: FeedHandle } | undefined;
  /** Cluster mode: the members on other nodes as this room's members were last told of them. */
  private remote: RemotePresence | undefined;
  /** Cluster mode: members the room may hold on all nodes together (0 = no cap); set by the registry. */
  maxMembers = 0;
  /** Cluster mode: acknowledgements owed to this node's senders, by seq, sent when the feed delivers it. */
  private readonly pendingAcks = new Map<number, PendingAck[]>();
  /**
   * Topic, owner, modes, roles, bans and invitations (the registry sets it from the store's
   * record). Read by the hub's preconditions; changed only from this room's mailbox.
   */
  policy = new RoomPolicy(undefined, new Set());
  /**
   * Cluster mode: the version of the settings the policy holds (Redis bumps it with every change),
   * so a node takes a change once and never goes back to older settings.
   */
  private settingsVersion = 0;
  /**
   * Cluster mode: the session reference (`node:session`) of each member nick, as memberList last
   * read the shared presence, so memberRoles finds other nodes' session operators.
   */
  private presenceRefs: Map<string, string> | undefined;

  constructor(
    readonly id: string,
    public name: string,
    readonly createdBy: string,
    lastSeq: number,
    private readonly store: Store,
    private readonly observer: RoomObserver = {},
    /** Told about every failure the room answers with internal_error (the hub logs them). */
    private readonly onError: (err: unknown, context: string) => void = () => {},
    /**
     * True when the room outlives being empty (created by a registered nick, or by the server);
     * undefined when unknown (loaded from the store): the hub looks the creator up.
     */
    public keep?: boolean,
  ) {
    this.lastSeq = lastSeq;
  }

  /** Members right now (for listings; may lag the mailbox by the events still queued). */
  get memberCount(): number {
    return this.members.size;
  }

  /**
   * Names this history of the room, for `joined.epoch`: the room's creation time (base 36).
   * Seqs count from the room's creation, and a room made again (after expiry, in a new data
   * directory, after Redis lost its data) is created at another time, so a client's since_seq
   * from an earlier history is recognised instead of resuming at a seq that now means another
   * message. The hub sets it when it makes the actor.
   */
  epoch = '0';

  /**
   * True when `epoch` (a client's, from `joined.epoch` or an SSE event id) names another history
   * of this room, so its seqs are no place to resume. A client that sent none is trusted.
   */
  otherHistory(epoch: string | undefined): boolean {
    return epoch !== undefined && epoch !== this.epoch;
  }

  /** The highest seq acknowledged so far. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Sessions whose since_seq replay of this room is still under way (stats, tests). */
  get replaying(): number {
    return this.replays.size;
  }

  /** Ms the room has been without members or watchers (0 while anyone is in). */
  idleFor(now = Date.now()): number {
    return this.members.size > 0 || this.watchers.size > 0 ? 0 : now - this.emptySince;
  }

  /** Nicks of the members, in join order. */
  memberNames(): string[] {
    return [...this.members].map((s) => s.nick ?? '?');
  }

  /** The members with what `users` details about each (away messages). */
  memberDetails(names: string[] = this.memberNames()): UserInfo[] {
    const away = new Map<string, string>();
    for (const s of this.members) if (s.nick !== undefined && s.away !== undefined) away.set(s.nick, s.away);
    return names.map((user_name) => {
      const message = away.get(user_name);
      return message !== undefined ? { user_name, away: message } : { user_name };
    });
  }

  /**
   * Cluster mode: takes the settings Redis holds at `version` unless the policy has newer ones
   * (a notice may overtake the read made when the room was opened). Returns the settings replaced.
   */
  adoptSettings(version: number, settings: RoomSettings | undefined): RoomSettings | undefined {
    if (version <= this.settingsVersion) return undefined;
    const before = this.policy.settings;
    this.settingsVersion = version;
    this.policy.replace(settings ?? defaultSettings());
    return before;
  }

  /**
   * Cluster mode: from now on messages are committed through `engine` and delivered from the
   * room's feed, which starts after the seq the room was made with (the head the registry read),
   * so nothing committed meanwhile is missed. Reads (history, replay) go to the engine.
   */
  async attachFeed(engine: Engine): Promise<void> {
    const feed = await engine.feed(
      this.id,
      {
        messages: (messages) => this.post({ kind: 'deliver', messages }),
        // This node announces its own members' joins and leaves itself, in its mailbox.
        notice: (notice) => {
          if (notice.node !== engine.nodeId) this.post({ kind: 'notice', notice });
        },
        gap: (after, to) => this.post({ kind: 'gap', after, to }),
        // Notices may have been lost while the subscriber link was down: read the settings and
        // the presence again (the members are told what changed meanwhile).
        resync: () => {
          void engine.members(this.id).then(
            (members) => this.post({ kind: 'presence', members }),
            (err: unknown) => this.onError(err, `room ${this.id}: reading the presence after a reconnect`),
          );
          void engine.roomSettings(this.id).then(
            (shared) =>
              this.post({
                kind: 'notice',
                notice: {
                  node: engine.nodeId,
                  type: 'settings',
                  payload: {
                    room_id: this.id,
                    version: shared.version,
                    settings: shared.settings ?? defaultSettings(),
                  },
                },
              }),
            (err: unknown) => this.onError(err, `room ${this.id}: reading the settings after a reconnect`),
          );
        },
      },
      { after: this.lastSeq },
    );
    this.cluster = { engine, feed };
    this.remote = new RemotePresence(engine.nodeId);
  }

  /** Stops the feed (shutdown). */
  async detach(): Promise<void> {
    await this.cluster?.feed.close();
  }

  /** Where history is read: the shared log in cluster mode, else the store. */
  private get log(): Pick<Store, 'since' | 'before' | 'firstSeq'> {
    return this.cluster?.engine ?? this.store;
  }

  /** Puts an event in the mailbox; handled after everything queued before it. */
  post(event: RoomEvent): void {
    this.mailbox.push(event);
    if (!this.draining) {
      // Start on a microtask: everything posted in this synchronous stretch (e.g. all the frames
      // one socket read delivered) is then in the mailbox and can share one commit.
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
  }

  /** Resolves once the mailbox is empty (used by shutdown and tests). */
  async settled(): Promise<void> {
    while (this.draining || this.mailbox.length > 0 || this.commitsInFlight.size > 0)
      await new Promise((r) => setImmediate(r));
  }

  private async drain(): Promise<void> {
    try {
      let sliceStart = performance.now();
      this.commitWaitMs = 0;
      let handled = 0;
      while (this.mailbox.length > 0) {
        if (handled >= SLICE_EVENTS || performance.now() - sliceStart - this.commitWaitMs >= SLICE_MS) {
          // Still one event at a time: posts made meanwhile only queue (draining stays true).
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
          this.commitWaitMs = 0;
          handled = 0;
        }
        if (this.mailbox[0]!.kind === 'message') {
          // Take the whole run of queued messages: one append (one commit) for all of them.
          const batch: MessageEvent[] = [];
          while (this.mailbox[0]?.kind === 'message') batch.push(this.mailbox.shift() as MessageEvent);
          handled += batch.length;
          const committed = this.guard(batch, () => this.handleMessages(batch));
          if (this.cluster) this.track(committed);
          else await committed;
        } else {
          const event = this.mailbox.shift()!;
          handled++;
          // Work for a session that closed meanwhile (cut as a slow consumer, gone) is dropped: a
          // client must not keep the room busy with reads nobody will receive. A leave and an
          // unwatch still run (they clean up), and so do messages (accepted, they get stored).
          if ('session' in event && event.session.closed && FOR_LIVE_SESSIONS.has(event.kind)) continue;
          await this.guard([event], () => this.handle(event as Exclude<RoomEvent, { kind: 'message' }>));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Cluster mode: a commit the mailbox goes on without (see {@link commitsInFlight}). */
  private track(commit: Promise<void>): void {
    this.commitsInFlight.add(commit);
    void commit.finally(() => this.commitsInFlight.delete(commit));
  }

  /** A failing handler answers its requesters with internal_error; the actor keeps going. */
  private async guard(events: RoomEvent[], fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // Redis down (cluster mode): the clients are told to retry; it is not the server's fault.
      const cluster = clusterProtocolError(err);
      // The cause goes to the log, not to clients: it may name files, tables or constraints.
      if (!cluster)
        this.onError(
          err,
          `room ${this.id}: handling ${events.length} ${events[0]?.kind ?? 'event'} event(s)`,
        );
      for (const e of events) {
        if ('ref' in e) e.session.send('error', cluster ?? protocolError('internal_error'), e.ref);
      }
    }
  }

  private handle(event: Exclude<RoomEvent, { kind: 'message' }>): void | Promise<void> {
    if (this.expired && event.kind !== 'expire') return this.refuseExpired(event);
    switch (event.kind) {
      case 'expire':
        return this.handleExpire(event);
      case 'join':
        return this.handleJoin(event);
      case 'leave':
        return this.handleLeave(event);
      case 'history':
        return this.handleHistory(event);
      case 'users':
        return this.memberList().then(async (users) =>
          event.session.send(
            'users',
            {
              room_id: this.id,
              users,
              members: await this.sharedDetails(users),
              roles: this.memberRoles(users),
            },
            event.ref,
          ),
        );
      case 'deliver':
        return this.deliverCommitted(event.messages);
      case 'notice':
        return this.handleNotice(event.notice);
      case 'away':
        if (this.members.has(event.session)) {
          const { nick, away } = event.session;
          const payload = {
            room_id: this.id,
            user_name: nick ?? '?',
            ...(away !== undefined ? { message: away } : {}),
          };
          this.broadcast({ type: 'user_away', payload }, event.session);
          // The other nodes' members share the room too.
          if (this.cluster) {
            const { engine } = this.cluster;
            void engine
              .notify(this.id, { node: engine.nodeId, type: 'user_away', payload })
              .catch((err: unknown) => this.onError(err, `room ${this.id}: telling the nodes of an away`));
          }
        }
        return;
      case 'account':
        if (this.members.has(event.session)) {
          const payload = {
            room_id: this.id,
            user_name: event.session.nick ?? '?',
            ...accountOf(event.session),
          };
          this.broadcast({ type: 'user_account', payload }, event.session);
          if (this.cluster) {
            const { engine } = this.cluster;
            void engine
              .notify(this.id, { node: engine.nodeId, type: 'user_account', payload })
              .catch((err: unknown) => this.onError(err, `room ${this.id}: telling the nodes of a login`));
          }
        }
        return;
      case 'gap':
        return this.skipGap(event.to);
      case 'bans':
        return this.removeBanned();
      case 'unop':
        return this.dropSessionOp(event.sessionRef);
      case 'presence':
        for (const told of this.remote?.sync(this.id, event.members) ?? []) this.broadcast(told);
        return;
      case 'watch':
        return this.handleWatch(event);
      case 'unwatch':
        this.watchers.delete(event.session);
        this.replays.delete(event.session);
        this.noteIfEmpty();
        return;
      case 'replay':
        return this.replayStep(event.session, event.replay);
      case 'moderate':
        return this.refusing(event.session, event.ref, () =>
          this.moderateShared(event.session, event.action, event.ref),
        );
      case 'rename':
        if (this.members.has(event.session)) {
          // Other nodes' members hear of it through the room's channel.
          if (this.cluster)
            void this.cluster.engine
              .renamePresence(this.id, event.session.id, event.oldName, event.session.nick ?? '?')
              .catch((err: unknown) => this.onError(err, `room ${this.id}: renaming in the shared presence`));
          this.broadcast({
            type: 'nick_changed',
            payload: {
              room_id: this.id,
              old_name: event.oldName,
              user_name: event.session.nick ?? '?',
              role: this.policy.roleOf(event.session) ?? null,
            },
          });
        }
        return;
    }
  }

  /** Sends a RequestError thrown by `fn` to the session as its `error` reply; other errors go on up. */
  private async refusing(session: Session, ref: Ref, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      session.send('error', err.error, ref);
    }
  }

  /** What moderation works on: this room's members, store and broadcast (see room-moderation.ts). */
  private get moderation(): ModeratedRoom {
    return {
      id: this.id,
      policy: this.policy,
      member: (key) => {
        for (const m of this.members) if (m.nickKey === key) return m;
        return undefined;
      },
      members: () => this.members,
      save: (settings: RoomSettings) => this.saveSettings(settings),
      announce: (message, actor, ref) => {
        this.broadcast(message, actor);
        actor.send(message.type, message.payload as never, ref);
        if (this.cluster) {
          const { engine } = this.cluster;
          void engine
            .notify(this.id, {
              node: engine.nodeId,
              type: 'relay',
              payload: message,
              except: `${engine.nodeId}:${actor.id}`,
            })
            .catch((err: unknown) => this.onError(err, `room ${this.id}: telling the nodes of a change`));
        }
      },
      remove: (member, payload, except) => this.removeMember(member, payload, except),
      tellOperators: (payload, skip) => this.tellOperators(payload, skip),
      elsewhere: (key) => this.memberElsewhere(key),
      inviteElsewhere: async (key, payload, to) => {
        if (!this.cluster) return;
        const { engine } = this.cluster;
        await engine.notify(this.id, {
          node: engine.nodeId,
          type: 'invite',
          payload: { room_id: this.id, key, invited: payload },
        });
        if (to)
          await engine.tellNode(to.node, { t: 'invited', nick_key: to.key, session: to.session, payload });
      },
      removeElsewhere: async (member, payload, actor) => {
        const { engine } = this.cluster!;
        await engine.notify(this.id, {
          node: engine.nodeId,
          type: 'kick',
          payload,
          target: member.owner,
          except: `${engine.nodeId}:${actor.id}`,
        });
      },
    };
  }

  /**
   * Stores new settings, then makes them the policy's: in the store on one node; in cluster mode
   * in Redis, only if nobody changed them meanwhile (else SettingsConflict, with the newer ones
   * taken), and every other node's room is told (a `settings` notice).
   */
  private async saveSettings(settings: RoomSettings): Promise<void> {
    if (!this.cluster) {
      await this.store.saveRoomSettings(this.id, storedSettings(settings));
      this.policy.replace(settings);
      return;
    }
    const { engine } = this.cluster;
    if (settings.session_ops) {
      // Entries of members gone without their node saying so (a node that died, its members
      // reaped) name nobody; they are dropped here so the list stays as short as the room.
      const present = new Set((await engine.members(this.id)).map((p) => `${p.node}:${p.session}`));
      settings = { ...settings, session_ops: settings.session_ops.filter((r) => present.has(r)) };
      if (settings.session_ops?.length === 0) delete settings.session_ops;
    }
    const outcome = await engine.saveSettings(this.id, this.settingsVersion, settings);
    if (!outcome.saved) {
      this.adoptSettings(outcome.current.version, outcome.current.settings);
      throw new SettingsConflict();
    }
    this.settingsVersion = outcome.version;
    this.policy.replace(settings);
  }

  /** An operator's change, decided again on the newer settings when another node changed them first. */
  private async moderateShared(session: Session, action: ModAction, ref: Ref): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await moderate(this.moderation, session, action, ref);
      } catch (err) {
        if (!(err instanceof SettingsConflict) || attempt >= 4) throw err;
      }
    }
  }

  /** Cluster mode: the member with this nick key connected to another node. */
  private async memberElsewhere(key: string): Promise<RemoteMember | undefined> {
    if (!this.cluster) return undefined;
    const { engine } = this.cluster;
    const found = (await engine.members(this.id)).find(
      (p) => p.node !== engine.nodeId && nickKey(p.nick) === key,
    );
    if (!found) return undefined;
    // Only its password holder can hold a registered nick, so the nick's record says it.
    const registered = (await engine.getUser(key)) !== undefined;
    return { key, nick: found.nick, owner: `${found.node}:${found.session}`, registered };
  }

  /**
   * An invitation, told to the members who could have made it (owner, operators, server
   * operators) but `skip` (the inviter and the invitee, told already): IRC's invite-notify.
   */
  private tellOperators(payload: ServerEventPayloads['invited'], skip: readonly Session[] = []): void {
    for (const m of this.members) {
      if (skip.includes(m) || m.closed) continue;
      const role = this.policy.roleOf(m);
      if (role === 'owner' || role === 'operator' || this.policy.isServerOperator(m))
        m.send('invited', payload);
    }
  }

  /**
   * A member left (a leave, a quit, a kick, a ban): if its session was an operator of the room,
   * that ends now. Taken off the policy at once, so nothing in the mailbox meanwhile sees it; then
   * (cluster mode) off the shared settings, in the mailbox's order (a rejoin comes after).
   */
  private endSessionOp(session: Session): void {
    const ref = this.policy.sessionRef(session);
    if (!this.policy.isSessionOperator(ref)) return;
    if (!this.cluster) {
      // Never stored on one node: the policy is all there is.
      this.policy.replace(withoutSessionOp(this.policy.settings, ref)!);
      return;
    }
    this.post({ kind: 'unop', sessionRef: ref });
  }

  /** Cluster mode: takes a session operator out of the shared settings (again when another node changed them first). */
  private async dropSessionOp(ref: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = withoutSessionOp(this.policy.settings, ref);
      if (!next) return;
      try {
        return await this.saveSettings(next);
      } catch (err) {
        if (err instanceof SettingsConflict) continue;
        // Redis refused: the session is out of the room all the same, and its reference is never
        // reused, so the entry left in Redis names nobody. Here it is gone at once.
        this.policy.replace(next);
        return this.onError(err, `room ${this.id}: ending a session operator`);
      }
    }
  }

  /** Takes a member out (a kick or a ban): its replay ends, the room and it are told. */
  private removeMember(
    member: Session,
    payload: ServerEventPayloads['user_left'],
    except?: Session | string,
  ): void {
    if (!this.members.delete(member)) return;
    this.replays.delete(member);
    this.endSessionOp(member);
    // The session's own list of rooms, kept in step with the room as the hub's leave does.
    member.rooms.delete(this.id);
    this.noteIfEmpty();
    const skip = typeof except === 'string' ? undefined : except;
    this.broadcast({ type: 'user_left', payload }, skip);
    if (member !== skip && !member.closed) member.send('user_left', payload);
    if (this.cluster) {
      // The other nodes' members see it go, with who kicked it (the actor's node skips the actor).
      const { engine } = this.cluster;
      void engine
        .leavePresence(this.id, member.id, member.nick ?? '?', payload.reason, {
          ...(payload.kicked_by !== undefined ? { kicked_by: payload.kicked_by } : {}),
          except: typeof except === 'string' ? except : `${engine.nodeId}:${except?.id ?? ''}`,
        })
        .catch((err: unknown) => this.onError(err, `room ${this.id}: leaving the shared presence`));
    }
  }

  /** Cluster mode: a notice another node published on the room's channel. */
  private handleNotice(notice: FeedNotice): void {
    const nodeId = this.cluster?.engine.nodeId;
    const skipOwner = 'except' in notice ? notice.except : undefined;
    const skip =
      skipOwner === undefined ? undefined : [...this.members].find((m) => `${nodeId}:${m.id}` === skipOwner);
    switch (notice.type) {
      case 'settings': {
        const before = this.adoptSettings(notice.payload.version, notice.payload.settings);
        // Read again after the subscriber link came back: the ban_changed of a new ban may have
        // been lost with the notice, so every member a ban covers leaves now.
        if (notice.node === nodeId) this.removeBanned();
        // A new ban: its members here leave after its ban_changed (the relay that follows), as on
        // the banning node; should that never come (the node died in between), after 2 s.
        else if (before && this.policy.settings.bans.some((b) => !before.bans.some((o) => o.mask === b.mask)))
          setTimeout(() => this.post({ kind: 'bans' }), 2000).unref();
        return;
      }
      case 'invite':
        this.policy.invite(notice.payload.key);
        if (notice.payload.invited) this.tellOperators({ ...notice.payload.invited, room_id: this.id });
        return;
      case 'kick': {
        const target = [...this.members].find((m) => `${nodeId}:${m.id}` === notice.target);
        if (target) this.removeMember(target, { ...notice.payload, room_id: this.id }, notice.except);
        return;
      }
      case 'relay':
        this.broadcast(
          { ...notice.payload, payload: { ...notice.payload.payload, room_id: this.id } } as ServerMessage,
          skip,
        );
        if (notice.payload.type === 'ban_changed' && notice.payload.payload.banned)
          this.removeBanned(notice.payload.payload.mask);
        return;
      default:
        // Told already (a read of the shared presence showed it first)?
        if (this.remote && !this.remote.note(notice)) return;
        // Presence: the payload names the room as the other node (or the reaper) spelt it.
        this.broadcast(
          {
            type: notice.type,
            payload: {
              ...notice.payload,
              room_id: this.id,
              // A rename elsewhere: the role its new nick has here.
              ...(notice.type === 'nick_changed'
                ? { role: this.remoteRole(notice.payload.user_name, notice.owner) ?? null }
                : {}),
            },
          } as ServerMessage,
          skip,
        );
    }
  }

  /**
   * After another node set a ban (`mask`; every ban when absent): this node's members it covers
   * leave, as the banning node's do (`reason: banned`, `kicked_by` its setter).
   */
  private removeBanned(mask?: string): void {
    for (const member of [...this.members]) {
      const ban = this.policy.banFor(member, member.conn.remoteAddress);
      if (ban && (mask === undefined || ban.mask === mask))
        this.removeMember(member, {
          room_id: this.id,
          user_name: member.nick ?? '?',
          reason: 'banned',
          kicked_by: ban.set_by,
        });
    }
  }

  /** `users` details: away messages of members on every node in cluster mode. */
  private async sharedDetails(names: string[]): Promise<UserInfo[]> {
    if (!this.cluster) return this.memberDetails(names);
    const away = await this.cluster.engine.awayOf(names.map(nickKey));
    return names.map((user_name, i) => {
      const message = away[i];
      return message !== undefined ? { user_name, away: message } : { user_name };
    });
  }

  /**
   * The role of a member on another node, by its nick and its `node:session` (a connection's own
   * operator status): a registered nick is held only by its password holder, so holding it
   * proves it.
   */
  private remoteRole(nick: string, sessionRef: string | undefined): RoomRole | undefined {
    return this.policy.roleOfKey(nickKey(nick), true, sessionRef);
  }

  /**
   * Roles of the members that have one, by nick. In cluster mode `names` lists members on every
   * node: those on other nodes are looked up with {@link remoteRole}.
   */
  private memberRoles(names?: string[]): Record<string, RoomRole> {
    const roles: Record<string, RoomRole> = {};
    for (const m of this.members) {
      const role = this.policy.roleOf(m);
      if (role && m.nick !== undefined) roles[m.nick] = role;
    }
    if (this.cluster && names) {
      const here = new Set(this.memberNames());
      for (const nick of names) {
        if (here.has(nick)) continue;
        const role = this.remoteRole(nick, this.presenceRefs?.get(nick));
        if (role) roles[nick] = role;
      }
    }
    return roles;
  }

  /**
   * `joined` for a member or watcher: with topic, modes and the roles of those listed. `members`
   * comes from memberList (every node's in cluster mode, with their roles; the settings follow Redis).
   */
  private joinedPayload(members: string[]): ServerEventPayloads['joined'] {
    const roles = this.memberRoles(members);
    const topic = this.policy.topic;
    return {
      room_id: this.id,
      room_name: this.name,
      members,
      last_seq: this.lastSeq,
      epoch: this.epoch,
      ...(topic ? { topic } : {}),
      roles,
      modes: { ...this.policy.modes },
    };
  }

  private async handleJoin(event: Extract<RoomEvent, { kind: 'join' }>): Promise<void> {
    const { session } = event;
    if (session.closed) return;
    if (await this.catchUpFirst(event)) return;
    const rejoin = this.members.has(session);
    // Checked again here: a ban or +i may have been set while this join waited in the mailbox.
    const refused = admissionError(this.policy, session, this.id, rejoin);
    if (refused) {
      session.rooms.delete(this.id);
      session.send('error', refused.error, event.ref);
      return;
    }
    if (this.cluster && !rejoin) {
      const { engine } = this.cluster;
      const max = this.maxMembers;
      // Refused (full, or Redis down): the hub counted the session in already; it is not.
      const joined = await engine
        .joinPresence(this.id, session.id, session.nick ?? '?', max, accountOf(session))
        .catch((err: unknown) => {
          session.rooms.delete(this.id);
          throw err;
        });
      if (joined === 'noroom') {
        // Removed cluster-wide by idle expiry a moment ago; the feed's `expired` drops this actor.
        session.rooms.delete(this.id);
        session.send(
          'error',
          protocolError('no_such_room', `${this.id} expired; join it again to create it`),
          event.ref,
        );
        return;
      }
      if (joined === 'full') {
        session.rooms.delete(this.id);
        session.send(
          'error',
          protocolError('room_full', `${this.id} has ${max} members, the most it may hold`),
          event.ref,
        );
        return;
      }
      if (session.closed) {
        await engine.leavePresence(this.id, session.id, session.nick ?? '?', 'quit');
        return;
      }
    }
    if (!rejoin) this.policy.useInvite(session);
    this.members.add(session);
    session.send('joined', this.joinedPayload(await this.memberList(session)), event.ref);
    // A rejoin replaces a replay still under way; the messages it deferred still wait for one.
    const previous = this.replays.get(session);
    this.replays.delete(session);
    if (event.sinceSeq !== undefined)
      await this.startReplay(session, event.sinceSeq, previous?.deferred ?? [], event.ref);
    else {
      await this.sendHistoryPage(session, undefined, HISTORY_ON_JOIN, undefined);
      if (previous && previous.deferred.length > 0) await this.commitDeferred(previous.deferred);
    }
    if (!rejoin) {
      const role = this.policy.roleOf(session);
      this.broadcast(
        {
          type: 'user_joined',
          payload: {
            room_id: this.id,
            user_name: session.nick ?? '?',
            ...(role ? { role } : {}),
            ...accountOf(session),
          },
        },
        session,
      );
    }
  }

  /**
   * Cluster mode: a client resuming here from another node may have seen seqs this node's feed
   * has not delivered yet (the feeds of two nodes are never exactly level). Answered now, its
   * `joined.last_seq` would be below its `since_seq` (a client takes that for history lost and
   * starts over, showing a page twice) and the replay would call a committed seq missing. So
   * when `since_seq` is above this node's watermark but committed, the event waits outside the
   * mailbox (the deliveries it waits for go through the mailbox) until the feed reached it, at
   * most 2 s, and is posted again. True when it was held back.
   */
  private async catchUpFirst(event: Extract<RoomEvent, { kind: 'join' | 'watch' }>): Promise<boolean> {
    const { cluster } = this;
    const since = event.sinceSeq;
    if (!cluster || since === undefined || since <= this.lastSeq || event.caughtUp) return false;
    const head = await cluster.engine.head(this.id);
    if (head === undefined || since > head) return false; // past the head: the usual recovered: false
    const again = (): void => this.post({ ...event, caughtUp: true });
    let timer: NodeJS.Timeout | undefined;
    void Promise.race([
      cluster.feed.reached(since),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000))),
    ])
      .catch(() => {})
      .then(() => {
        clearTimeout(timer);
        again();
      });
    return true;
  }

  /** A watcher gets `joined`, then (with sinceSeq) the messages it missed, then every broadcast. */
  private async handleWatch(event: Extract<RoomEvent, { kind: 'watch' }>): Promise<void> {
    const { session } = event;
    if (session.closed) return;
    if (await this.catchUpFirst(event)) return;
    session.send('joined', this.joinedPayload(await this.memberList(session)));
    this.watchers.add(session);
    // As for a join: live messages wait until the replay caught up (see replayStep).
    if (event.sinceSeq !== undefined) await this.startReplay(session, event.sinceSeq, [], undefined);
  }

  // ---- since_seq replay ----------------------------------------------------------------------
  //
  // A replay is flow-controlled: a page goes out only while the session's outbound bytes are at
  // or below its reply budget; otherwise the replay waits for the connection to drain and posts
  // its next step to the mailbox. Meanwhile the room keeps working: messages are committed and
  // broadcast to everybody else, and the replaying session skips them (broadcast), since every
  // committed message is in the store and a later page reads it. Every step runs in the mailbox,
  // where no append is in flight, so `lastSeq` is exactly what the store holds: the page that
  // reaches it is the last one, and the hand-over to live traffic happens in that same step,
  // before any later message is broadcast. No gap, no duplicate, memory bounded by one page.

  private async startReplay(
    session: Session,
    sinceSeq: number,
    deferred: MessageEvent[],
    ref: Ref,
  ): Promise<void> {
    const replay: Replay = { cursor: sinceSeq, recovered: true, deferred, ref };
    this.replays.set(session, replay);
    await this.replayStep(session, replay);
  }

  /** Sends the next page of `replay` if the session has room for it; hands over to live after the last. */
  private async replayStep(session: Session, replay: Replay): Promise<void> {
    if (this.replays.get(session) !== replay || session.closed) return;
    if (session.conn.bufferedBytes() > session.replyBudget) return this.replayLater(session, replay);
    let page: Awaited<ReturnType<typeof readReplayPage>>;
    try {
      page = await readReplayPage(this.log, this.id, replay.cursor, this.lastSeq, session.replyBudget);
    } catch (err) {
      // A replay left in place would keep the session off live traffic for good: end it, and
      // tell the client where to pick up.
      this.onError(err, `room ${this.id}: reading a replay page after seq ${replay.cursor}`);
      session.send(
        'error',
        protocolError(
          'internal_error',
          `the replay of ${this.id} stopped after seq ${replay.cursor}; join again with that since_seq`,
        ),
        replay.ref,
      );
      return this.endReplay(session, replay);
    }
    if (session.closed) return;
    // Other rooms may have filled the buffer while the page was read: read it again later.
    if (session.conn.bufferedBytes() > session.replyBudget) return this.replayLater(session, replay);
    if (page.gap) replay.recovered = false;
    const last = page.messages[page.messages.length - 1];
    if (last) replay.cursor = last.seq;
    session.send('history', {
      room_id: this.id,
      messages: page.messages,
      has_more: page.more,
      recovered: replay.recovered,
    });
    if (page.more) return this.replayLater(session, replay);
    return this.endReplay(session, replay);
  }

  /** Hands the session over to live traffic, then commits what it sent during the replay. */
  private async endReplay(session: Session, replay: Replay): Promise<void> {
    this.replays.delete(session);
    if (replay.deferred.length > 0) await this.commitDeferred(replay.deferred);
  }

  /** Posts the next step now if the buffer is low enough, else once it drained. */
  private replayLater(session: Session, replay: Replay): void {
    const step = (): void => this.post({ kind: 'replay', session, replay });
    if (session.conn.bufferedBytes() <= session.replyBudget) step();
    else void session.drained().then(step);
  }

  /** Commits the messages a session sent during its replay, in the order it sent them. */
  private async commitDeferred(deferred: MessageEvent[]): Promise<void> {
    await this.guard(deferred, () => this.handleMessages(deferred));
  }

  private async sendHistoryPage(
    session: Session,
    beforeSeq: number | undefined,
    limit: number,
    ref: Ref,
  ): Promise<void> {
    // The limit is a maximum: a page also stops at the reply budget (long messages), and
    // has_more then tells the client to page on.
    // Capped at the watermark: in cluster mode the log may hold seqs the feed has yet to deliver
    // here, which the session then gets live (on one node the two are the same).
    const upTo = Math.min(beforeSeq ?? Infinity, this.lastSeq + 1);
    const messages = newestWithin(await this.log.before(this.id, upTo, limit), session.replyBudget);
    const oldest = messages[0];
    const first = oldest ? await this.log.firstSeq(this.id) : undefined;
    const hasMore = oldest !== undefined && first !== undefined && first < oldest.seq;
    session.send('history', { room_id: this.id, messages, has_more: hasMore }, ref);
  }

  private handleHistory(event: Extract<RoomEvent, { kind: 'history' }>): Promise<void> {
    return this.sendHistoryPage(event.session, event.beforeSeq, event.limit, event.ref);
  }

  private async handleLeave(event: Extract<RoomEvent, { kind: 'leave' }>): Promise<void> {
    const { session } = event;
    if (!this.members.has(session)) {
      if (event.ref !== undefined || !event.reason)
        session.send('error', protocolError('not_in_room', `you are not in ${this.id}`), event.ref);
      return;
    }
    // Messages sent while replaying were accepted as a member's: they are stored before the leave.
    const replay = this.replays.get(session);
    this.replays.delete(session);
    if (replay && replay.deferred.length > 0) await this.commitDeferred(replay.deferred);
    const payload = {
      room_id: this.id,
      user_name: session.nick ?? '?',
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.quit ? { quit: true } : {}),
      ...(event.killedBy !== undefined ? { killed_by: event.killedBy } : {}),
    };
    this.members.delete(session);
    this.endSessionOp(session);
    this.noteIfEmpty();
    if (this.cluster) {
      try {
        await this.cluster.engine.leavePresence(this.id, session.id, session.nick ?? '?', event.reason, {
          ...(event.quit ? { quit: true } : {}),
          ...(event.killedBy !== undefined ? { killed_by: event.killedBy } : {}),
        });
      } catch (err) {
        // Left here all the same; the entry stays in Redis until the node's reaper (not yet) or a restart.
        this.onError(err, `room ${this.id}: leaving the shared presence`);
      }
    }
    this.broadcast({ type: 'user_left', payload });
    if (!session.closed) session.send('user_left', payload, event.ref);
  }

  private noteIfEmpty(): void {
    if (this.members.size === 0 && this.watchers.size === 0) this.emptySince = Date.now();
  }

  /**
   * Ends the room if it is still empty, idle long enough, and nothing waits behind this event.
   * The hub posts to a room only in the same synchronous stretch as it looks the room up in its
   * registry, so any join, watch or read that found this room is in the mailbox by now: an empty
   * mailbox here means none did, and once `remove` took the room out of the registry none can.
   */
  private async handleExpire(event: Extract<RoomEvent, { kind: 'expire' }>): Promise<void> {
    if (this.expired) return;
    if (!event.force && (this.mailbox.length > 0 || this.idleFor() < event.idleMs)) return;
    this.expired = true;
    try {
      await event.remove();
    } catch (err) {
      this.expired = false; // the hub put it back: the store still holds it
      throw err;
    }
  }

  /** Something reached the room after it expired (a replay step, say): nobody is served here any more. */
  private refuseExpired(event: Exclude<RoomEvent, { kind: 'expire' }>): void {
    if ('ref' in event && !event.session.closed) {
      event.session.send(
        'error',
        protocolError('no_such_room', `${this.id} expired; join it again to create it`),
        event.ref,
      );
    }
  }

  private async handleMessages(events: MessageEvent[]): Promise<void> {
    if (this.expired) {
      for (const e of events) this.refuseExpired(e);
      return;
    }
    const batch = this.replays.size === 0 ? events : events.filter((e) => !this.defer(e));
    if (this.cluster) return this.commitShared(this.cluster.engine, batch);
    const records: AppendRecord[] = [];
    const accepted: { event: (typeof batch)[number]; record: AppendRecord }[] = [];
    const startSeq = this.lastSeq;
    for (const event of batch) {
      const { session } = event;
      const senderKey = session.nickKey ?? session.id;
      if (event.clientMsgId !== undefined) {
        const key = `${senderKey}\0${event.clientMsgId}`;
        const known =
          this.recentIds.get(key) ??
          records.find((r) => r.sender_key === senderKey && r.client_msg_id === event.clientMsgId) ??
          (await this.store.findByClientMsgId(this.id, senderKey, event.clientMsgId));
        if (known) {
          // A retry of something stored: acknowledge again, store and broadcast nothing.
          if (records.includes(known as AppendRecord))
            accepted.push({ event, record: known as AppendRecord });
          else session.send('message', stripSender(known), event.ref);
          continue;
        }
      }
      const record: AppendRecord = {
        room_id: this.id,
        seq: ++this.lastSeq,
        id: newMessageId(),
        ts: Date.now(),
        user_name: session.nick ?? '?',
        message: event.text,
        sender_key: senderKey,
      };
      if (event.clientMsgId !== undefined) record.client_msg_id = event.clientMsgId;
      if (event.msgKind !== undefined) record.kind = event.msgKind;
      records.push(record);
      accepted.push({ event, record });
    }
    if (records.length === 0) return;
    const started = performance.now();
    try {
      await this.store.append(records);
    } catch (err) {
      this.lastSeq = startSeq;
      throw err;
    }
    const commitMs = performance.now() - started;
    this.commitWaitMs += commitMs;
    let deliveries = 0;
    const broadcastOnce = new Set<AppendRecord>();
    for (const { event, record } of accepted) {
      if (record.client_msg_id !== undefined) this.remember(record);
      const message = stripSender(record);
      if (!broadcastOnce.has(record)) {
        broadcastOnce.add(record);
        deliveries += this.broadcast(
          { type: 'message', payload: message },
          event.ref === undefined ? undefined : event.session,
        );
      }
      // The sender's copy carries its ref so it can match the acknowledgement to its request.
      if (event.ref !== undefined && !event.session.closed) {
        event.session.send('message', message, event.ref);
        deliveries++;
      }
    }
    this.observer.onMessagesCommitted?.(records.length, deliveries, commitMs);
    const topic = records.findLast((r) => r.kind === 'topic');
    if (topic) await this.keepTopic(topic);
  }

  /**
   * A committed topic line becomes the room's stored topic (an empty text clears it). The line
   * itself is already in the history, so a failure here only leaves `joined` showing the old one.
   */
  private async keepTopic(line: ChatMessage): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = withTopic(this.policy.draft(), line);
      try {
        await this.saveSettings(next);
        return;
      } catch (err) {
        // Another node changed the settings first: put the topic on the newer ones.
        if (err instanceof SettingsConflict) continue;
        this.onError(err, `room ${this.id}: storing the topic`);
        return;
      }
    }
  }

  // ---- cluster mode ----------------------------------------------------------------------------

  /**
   * Commits the batch through the engine (which assigns the seqs and keeps client_msg_id retries
   * stored once, cluster-wide). Nothing is broadcast here: every member, the sender included,
   * gets each message when the feed brings it (deliverCommitted), so every node delivers one order.
   */
  private async commitShared(engine: Engine, batch: MessageEvent[]): Promise<void> {
    if (batch.length === 0) return;
    const drafts: Draft[] = batch.map((e) => ({
      senderKey: e.session.nickKey ?? e.session.id,
      userName: e.session.nick ?? '?',
      text: e.text,
      ...(e.clientMsgId !== undefined ? { clientMsgId: e.clientMsgId } : {}),
      ...(e.msgKind !== undefined ? { kind: e.msgKind } : {}),
    }));
    const started = performance.now();
    const outcomes = await engine.commit(this.id, drafts);
    let stored = 0;
    let acked = 0;
    outcomes.forEach((outcome, i) => {
      const event = batch[i]!;
      if (outcome.duplicate) {
        // A retry of something stored (maybe through another node): acknowledge again, nothing new.
        if (outcome.message && !event.session.closed)
          event.session.send('message', outcome.message, event.ref);
        return;
      }
      stored++;
      if (event.ref === undefined) return;
      const { seq } = outcome.message;
      if (seq <= this.lastSeq) {
        // The feed delivered it before this answer came: the acknowledgement is this delivery.
        if (!event.session.closed) {
          event.session.send('message', outcome.message, event.ref);
          acked++;
        }
      } else {
        const acks = this.pendingAcks.get(seq) ?? [];
        acks.push({ session: event.session, ref: event.ref, message: outcome.message });
        this.pendingAcks.set(seq, acks);
      }
    });
    this.observer.onMessagesCommitted?.(stored, undefined, performance.now() - started);
    if (acked > 0) this.observer.onMessagesDelivered?.(0, acked);
    // The node that committed a topic line stores it as the room's topic (every node shows it
    // from the line at once, and from the settings notice after).
    const topic = outcomes.findLast(
      (o): o is Extract<CommitOutcome, { duplicate: false }> => !o.duplicate && o.message.kind === 'topic',
    );
    if (topic) await this.keepTopic(topic.message);
  }

  /** Delivers what the feed brought (in seq order, each once) to this node's members and watchers. */
  private deliverCommitted(messages: ChatMessage[]): void {
    let delivered = 0;
    let deliveries = 0;
    for (const message of messages) {
      if (message.seq <= this.lastSeq) continue;
      this.lastSeq = message.seq;
      delivered++;
      const acks = this.pendingAcks.get(message.seq);
      this.pendingAcks.delete(message.seq);
      const sender = acks?.[0]?.session;
      // Shown at once by every node: the committing node stores it (keepTopic).
      if (message.kind === 'topic') this.policy.replace(withTopic(this.policy.draft(), message));
      deliveries += this.broadcast({ type: 'message', payload: message }, sender);
      for (const ack of acks ?? []) {
        if (ack.session.closed) continue;
        ack.session.send('message', message, ack.ref);
        deliveries++;
      }
    }
    // Recipients per message delivered here: a message this room had already delivered is not one.
    this.observer.onMessagesDelivered?.(delivered, deliveries);
  }

  /** Seqs up to `to` will never come (retention): senders still waiting are acknowledged with their copy. */
  private skipGap(to: number): void {
    for (const [seq, acks] of this.pendingAcks) {
      if (seq > to) continue;
      this.pendingAcks.delete(seq);
      for (const ack of acks) if (!ack.session.closed) ack.session.send('message', ack.message, ack.ref);
    }
    this.lastSeq = Math.max(this.lastSeq, to);
  }

  /**
   * Member nicks in join order: on every node in cluster mode, else this room's. `told`: the list
   * goes to this session (a join, a watch), so the room's other members are told what it shows
   * that they were not told yet (a notice still on its way, or lost), and not told it again later.
   */
  private async memberList(told?: Session): Promise<string[]> {
    if (!this.cluster) return this.memberNames();
    const members = await this.cluster.engine.members(this.id);
    if (told) for (const e of this.remote?.sync(this.id, members) ?? []) this.broadcast(e, told);
    this.presenceRefs = new Map(members.map((p) => [p.nick, `${p.node}:${p.session}`]));
    return members.map((p) => p.nick);
  }

  /**
   * Holds a message whose sender is replaying this room: its seq (and the sender's copy, its
   * acknowledgement) must come after everything replayed. True when held or refused.
   */
  private defer(event: MessageEvent): boolean {
    const replay = this.replays.get(event.session);
    if (!replay) return false;
    if (replay.deferred.length < MAX_DEFERRED) replay.deferred.push(event);
    else
      event.session.send(
        'error',
        protocolError('rate_limited', `wait for the replay of ${this.id} to finish before sending more`),
        event.ref,
      );
    return true;
  }

  private remember(record: AppendRecord): void {
    this.recentIds.set(`${record.sender_key}\0${record.client_msg_id}`, stripSender(record));
    if (this.recentIds.size > RECENT_IDS) {
      const oldest = this.recentIds.keys().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }

  /**
   * Serialises the event once and queues it to every member but `except`. Returns deliveries.
   * Sessions replaying the room skip its messages: a later replay page carries them.
   */
  private broadcast(message: ServerMessage, except?: Session): number {
    const out = outbound(message);
    const replaying = message.type === 'message' && this.replays.size > 0 ? this.replays : undefined;
    let n = 0;
    for (const member of this.members) {
      if (member === except || replaying?.has(member)) continue;
      member.deliver(out);
      n++;
    }
    for (const watcher of this.watchers) {
      if (replaying?.has(watcher)) continue;
      watcher.deliver(out);
      n++;
    }
    return n;
  }
}

/** Another node changed the room's settings first (cluster mode): the change is decided again. */
class SettingsConflict extends Error {}

/** Settings with the topic a topic line sets (an empty text clears it). */
function withTopic(settings: RoomSettings, line: ChatMessage): RoomSettings {
  if (line.message === '') delete settings.topic;
  else settings.topic = { text: line.message, set_by: line.user_name, set_ts: line.ts };
  return settings;
}

function stripSender(record: ChatMessage & { sender_key?: string }): ChatMessage {
  const { sender_key: _drop, ...message } = record;
  return message;
}

/** `{account}` of a session logged in (it holds its registered nick, proved by password), else `{}`. */
function accountOf(session: Session): { account?: string } {
  return session.registered && session.nick !== undefined ? { account: session.nick } : {};
}
