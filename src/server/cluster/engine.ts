import type { ChatMessage, MessageKind, ServerEventPayloads, ServerMessage } from '../../protocol/events.js';
import type { RoomRecord, RoomSettings, UserRecord } from '../store/store-types.js';

/** A message to commit: everything but the seq (assigned by the engine) and the id and ts (the node's). */
export interface Draft {
  /** The sender's nick key (its session id when it has none); with clientMsgId, the idempotency key. */
  senderKey: string;
  userName: string;
  text: string;
  clientMsgId?: string;
  /** Absent for plain speech (see ChatMessage.kind): actions and topic lines keep theirs. */
  kind?: MessageKind;
}

/** What became of one draft, in draft order. */
export type CommitOutcome =
  | { duplicate: false; message: ChatMessage }
  /**
   * A retry of a stored (senderKey, clientMsgId): nothing was stored. `message` is the stored copy,
   * undefined when retention dropped it meanwhile (its seq is still known).
   */
  | { duplicate: true; seq: number; message: ChatMessage | undefined };

/** The outcome of a nick claim. */
export type NickClaim =
  | { result: 'ok' }
  /** The claimant proved with its resume token that it is the holder's client; the old node was told to drop that session. */
  | { result: 'took_over'; node: string; session: string }
  | { result: 'taken'; node: string; session: string };

/** Someone present in a room, on some node. */
export interface Presence {
  node: string;
  session: string;
  nick: string;
}

/**
 * A room notice carried on the room's channel: presence changes, and what keeps every node's
 * room in step with a change made on one (settings, announcements, kicks). `except` names the
 * `node:session` that already had its copy (the actor's reply), so its node skips it. `owner`
 * (`node:session`) names whose presence changed, so a room tells each change once (remote-presence.ts).
 */
export type FeedNotice =
  | {
      node: string;
      type: 'user_joined';
      payload: { room_id: string; user_name: string; account?: string };
      owner?: string;
    }
  | { node: string; type: 'user_account'; payload: { room_id: string; user_name: string; account?: string } }
  | {
      node: string;
      type: 'user_left';
      payload: ServerEventPayloads['user_left'];
      except?: string;
      owner?: string;
    }
  | {
      node: string;
      type: 'nick_changed';
      payload: { room_id: string; old_name: string; user_name: string };
      owner?: string;
    }
  | { node: string; type: 'user_away'; payload: { room_id: string; user_name: string; message?: string } }
  /** The room's settings changed (stored first at `version`): every node's RoomPolicy takes them. */
  | { node: string; type: 'settings'; payload: { room_id: string; version: number; settings: RoomSettings } }
  /** An announcement made on the node of the change (role_changed, ban_changed, modes_changed). */
  | { node: string; type: 'relay'; payload: ServerMessage; except?: string }
  /**
   * An operator invited this nick key: every node's room lets it in once (`+i`), and tells its
   * operators (`invited`, for IRC's invite-notify).
   */
  | {
      node: string;
      type: 'invite';
      payload: { room_id: string; key: string; invited?: ServerEventPayloads['invited'] };
    }
  /** An operator on `node` kicked `target` (`node:session`), a member on another node. */
  | {
      node: string;
      type: 'kick';
      payload: ServerEventPayloads['user_left'];
      target: string;
      except?: string;
    };

/** A room's settings as Redis holds them; version 0 with none stored. */
export interface SharedSettings {
  version: number;
  settings: RoomSettings | undefined;
}

/**
 * What a node says about one of its users to another node's whois: the `whois` event's payload,
 * its `rooms` being those of the asker's rooms the user is in.
 */
export type WhoisAnswer = ServerEventPayloads['whois'];

/** What /stats shows of the whole cluster (see Engine.clusterStats). */
export interface ClusterStats {
  /** Nodes holding a lease and not reaped. */
  nodes: number;
  rooms: number;
  /** Room memberships on every node (a user in three rooms counts three times). */
  members: number;
}

/** Where a room feed delivers. Calls are made one at a time, never concurrently. */
export interface FeedSink {
  /**
   * Committed messages, in seq order, each exactly once, every seq after the start watermark
   * (gaps only as reported by `gap`). `node` is the committing node when the batch came live,
   * undefined when it was read back from the stream.
   */
  messages(messages: ChatMessage[], node: string | undefined): void;
  /** A presence notice, in channel order relative to live batches. */
  notice?(notice: FeedNotice): void;
  /**
   * The subscription was restored after the subscriber link dropped: notices published meanwhile
   * were lost (messages are not: the feed reads them from the stream), so what they carry
   * (settings) must be read again.
   */
  resync?(): void;
  /** Seqs after `after` up to `to` can no longer be delivered (retention dropped them, or history was replaced). */
  gap?(after: number, to: number): void;
}

/** A subscription made by Engine.feed. */
export interface FeedHandle {
  /** The highest seq delivered to the sink so far: the room's delivery watermark on this node. */
  readonly delivered: number;
  /** Resolves once every seq up to `seq` was delivered (or reported as a gap). */
  reached(seq: number): Promise<void>;
  /** Stops delivery and unsubscribes (idempotent). */
  close(): Promise<void>;
}

/** The engine's link state: `down` means every call that needs Redis fails with ClusterUnavailableError. */
export type EngineState = 'up' | 'down';

/** Why a node must tell its clients their history was replaced. */
export interface EpochChange {
  previous: string;
  current: string;
  /** The first seq of rooms created from now on is above this (so old seqs are never reused). */
  base: number;
}

/**
 * The state nodes of one cluster share: rooms, their seqs and messages, nicks, presence. The
 * seam between the hub and room actors (which stay per node) and whatever holds shared state.
 *
 * Contract (test/server/cluster/*.test.ts checks it against a real Redis):
 * - `commit` assigns seqs: per room they are dense (each exactly one more than the last, starting
 *   at the epoch's base + 1) and one order, whichever node commits; a draft is acknowledged
 *   (resolves) only after it is stored to Redis's durability (`appendfsync`). Drafts of one call
 *   get consecutive seqs in draft order unless some are duplicates.
 * - `(room, senderKey, clientMsgId)` is stored once, even when two nodes commit it at once;
 *   the second gets `duplicate: true` with the stored copy.
 * - Nothing is buffered: when Redis is unreachable, calls reject at once with
 *   ClusterUnavailableError (`maybeApplied: false`). A call whose reply was lost (link dropped,
 *   timeout) rejects with `maybeApplied: true`: a commit may be stored; a retry with the same
 *   clientMsgId settles it.
 * - A seq is never reused: not after a Redis restart on its data (`floor` covers acknowledged
 *   writes an `everysec` crash lost), not after Redis lost its data (a new epoch starts rooms at
 *   a base above every earlier seq; calls made under the old epoch reject with EpochChangedError
 *   and the engine emits `epoch`), not when a room is created again under an old id.
 * - `feed` delivers each committed message of the room to its sink once, in seq order, from
 *   the room's head at subscription (or `after`), filling from the stream whatever the live
 *   channel missed.
 * - `createRoom` applies `maxRooms` to the whole cluster; nick claims and presence hold cluster-wide.
 */
export interface Engine {
  /** This node's id (in message ids, presence and nick owners). */
  readonly nodeId: string;
  /** The command link's state. */
  readonly state: EngineState;

  /** Commits drafts to a room; see the contract. Rejects NoSuchRoomError for an unknown room. */
  commit(roomId: string, drafts: Draft[]): Promise<CommitOutcome[]>;
  /** Up to `limit` messages with seq > afterSeq, ascending. */
  since(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** The latest `limit` messages with seq < beforeSeq (all when undefined), ascending. */
  before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<ChatMessage[]>;
  /** The lowest seq still retained, or undefined when the room holds none. */
  firstSeq(roomId: string): Promise<number | undefined>;
  /** The room's highest committed seq, or undefined for an unknown room. */
  head(roomId: string): Promise<number | undefined>;
  /** Raises the room's seq to at least `seq` (never lowers it); returns the seq. */
  floor(roomId: string, seq: number): Promise<number>;

  /**
   * Creates a room unless it exists or the cluster holds `maxRooms` (0 = no cap), with its
   * settings (`room.settings`, the defaults when absent). Rooms are keyed by their folded key
   * (roomKey): `DEV` exists once `dev` does; the record keeps the first spelling.
   */
  createRoom(room: Omit<RoomRecord, 'last_seq'>, maxRooms: number): Promise<'created' | 'exists' | 'full'>;
  /** The room's settings and their version (read when a node opens the room). */
  roomSettings(roomId: string): Promise<SharedSettings>;
  /**
   * Stores the settings if Redis still holds `version`, then tells every node (a `settings`
   * notice); else answers with what Redis holds, for the caller to apply its change to again.
   */
  saveSettings(
    roomId: string,
    version: number,
    settings: RoomSettings,
  ): Promise<{ saved: true; version: number } | { saved: false; current: SharedSettings }>;
  /** Publishes a notice on the room's channel (to every node's room but this one). */
  notify(roomId: string, notice: FeedNotice): Promise<void>;
  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  listRooms(): Promise<RoomRecord[]>;
  getUser(nickKey: string): Promise<UserRecord | undefined>;
  putUser(user: UserRecord): Promise<void>;

  /**
   * Claims `nickKey` for a session of this node. `tokenHash` is the sha256 of the resume token the
   * session will be given; `presentedTokenHash`, of the token the client presented (a takeover).
   */
  claimNick(
    nickKey: string,
    claim: { session: string; nick: string; tokenHash: string; presentedTokenHash?: string },
  ): Promise<NickClaim>;
  /**
   * Sends `dm` (a DM event's payload without `to`) to the session holding the nick, on its node's
   * channel (the `node` event there, `{t: 'dm', nick_key, session, dm}`). Resolves with the
   * holder, or undefined when nobody holds the nick.
   */
  sendDm(
    nickKey: string,
    dm: object,
  ): Promise<{ node: string; session: string; nick: string; away?: string } | undefined>;
  /** Who holds a nick now, on which node. */
  holder(nickKey: string): Promise<{ node: string; session: string; nick: string } | undefined>;
  /**
   * Display nicks held anywhere in the cluster that pass `test`: at most `limit`, from at most
   * `maxScanned` nicks read (a bounded scan of `chat:online`, in no particular order).
   */
  onlineNicks(test: (nick: string) => boolean, limit: number, maxScanned: number): Promise<string[]>;
  /** Sets (or, undefined, clears) the away message of a nick held on this node, for every node to read. */
  setAway(nickKey: string, message: string | undefined): Promise<void>;
  /** The away messages of these nicks (undefined: not away), in order. */
  awayOf(nickKeys: string[]): Promise<(string | undefined)[]>;
  /**
   * Asks the node holding `session` for its whois (the `node` event `{t: 'whois', id, from,
   * nick_key, session, rooms}` there, answered with {@link answerWhois}); undefined when that
   * node does not answer within the command timeout or no longer holds the session.
   */
  whois(
    node: string,
    question: { nick_key: string; session: string; rooms: string[] },
  ): Promise<WhoisAnswer | undefined>;
  /** Publishes an event on another node's channel (the `node` event there), e.g. `{t: 'invited', ...}`. */
  tellNode(node: string, event: { t: string; [field: string]: unknown }): Promise<void>;
  /** Answers another node's whois question. */
  answerWhois(node: string, id: string, answer: WhoisAnswer | undefined): Promise<void>;
  /** Frees the nick if the session still holds it; true when it did. */
  releaseNick(nickKey: string, session: string): Promise<boolean>;
  /** Adds a session of this node to a room's members unless there or full (`max` 0 = no cap); publishes user_joined. */
  joinPresence(
    roomId: string,
    session: string,
    nick: string,
    max: number,
    /** What the user_joined notice adds: the joiner's account when logged in. */
    extra?: { account?: string },
  ): Promise<'joined' | 'already' | 'full' | 'noroom'>;
  /**
   * Removes it; publishes user_left (with `reason`, and what `extra` adds: a kick's `kicked_by`,
   * a quit, a kill's `killed_by`, the session that already had its copy). True when it was present.
   */
  leavePresence(
    roomId: string,
    session: string,
    nick: string,
    reason?: string,
    extra?: { kicked_by?: string; quit?: boolean; killed_by?: string; except?: string },
  ): Promise<boolean>;
  /** A present member's new nick (publishes nick_changed); false when the session is not present. */
  renamePresence(roomId: string, session: string, oldNick: string, nick: string): Promise<boolean>;
  /** Members on every node, in join order. */
  members(roomId: string): Promise<Presence[]>;
  /** Members per room, cluster-wide (rooms with nobody in are absent). */
  counts(): Promise<Map<string, number>>;
  /** Cluster-wide figures for /stats and /metrics: live nodes, rooms, room memberships (one read each). */
  clusterStats(): Promise<ClusterStats>;

  /**
   * Idle expiry, cluster-wide. Ids of rooms whose last activity (creation, the last member
   * leaving, a touch) is at least `idleMs` old, at most `limit`; kept rooms are not tracked.
   */
  idleRooms(idleMs: number, limit: number): Promise<string[]>;
  /** Stamps rooms active now: rooms with watchers on this node (Redis's presence holds only members). */
  touchRooms(roomIds: string[]): Promise<void>;
  /** Stops tracking a kept room for expiry (one made by a registered nick or the server). */
  keepRoom(roomId: string): Promise<void>;
  /** Tracks every room not tracked yet, as idle from now (at start). */
  trackRooms(): Promise<void>;
  /**
   * Removes the room on every node if nobody is present anywhere and it has been idle `idleMs`
   * (checked atomically against joins); nodes with its actor get the `expired` event.
   */
  expireRoom(roomId: string, idleMs: number): Promise<'expired' | 'busy' | 'gone'>;

  /** Subscribes the node's deliverer of a room to its committed messages; see FeedSink. */
  feed(roomId: string, sink: FeedSink, options?: { after?: number }): Promise<FeedHandle>;

  on(event: 'state', listener: (state: EngineState) => void): this;
  on(event: 'epoch', listener: (change: EpochChange) => void): this;
  /** A room this node feeds was removed by idle expiry (on any node): drop its actor. */
  on(event: 'expired', listener: (roomId: string) => void): this;
  /**
   * This node's lease was found gone at a renewal (paused or cut off longer than the lease):
   * other nodes may have reaped its nicks and presence, so its sessions must start over.
   */
  on(event: 'lapsed', listener: () => void): this;
  /** A nick was claimed afresh (`online`) or freed, on any node, this one too (MONITOR). */
  on(event: 'nick', listener: (event: { nick: string; online: boolean }) => void): this;
  /** A message on this node's channel (a nick takeover kick). */
  on(event: 'node', listener: (event: { t: string; [field: string]: unknown }) => void): this;

  /** Unsubscribes and closes the links. Idempotent. */
  close(): Promise<void>;
}
