import type { BanEntry, ChatMessage, RoomModes, RoomTopic } from '../../protocol/events.js';

/** A nick as a room remembers it: its collision key (what is compared) and its display form. */
export interface NickRef {
  key: string;
  nick: string;
}

/**
 * What a room keeps about itself besides messages: topic, owner, modes, standing roles and bans
 * (see docs/moderation.md). Invitations are not here: they last only while the server runs.
 */
export interface RoomSettings {
  topic?: RoomTopic;
  /** The registered nick that created the room; absent for rooms made by guests or the server. */
  owner?: NickRef;
  modes: RoomModes;
  operators: NickRef[];
  voiced: NickRef[];
  bans: BanEntry[];
  /**
   * Operators for as long as one session stays in the room (a guest who made the room, and whom
   * an operator of an ownerless room gave `+o`), by `node:session` (see RoomPolicy.sessionRef):
   * never a nick. Shared with the cluster's nodes in Redis, never written to SQLite (they mean
   * nothing once the process that held the sessions is gone).
   */
  session_ops?: string[];
}

/** A room as persisted. */
export interface RoomRecord {
  room_id: string;
  room_name: string;
  created_by: string;
  created_ts: number;
  /** The highest seq stored for the room (0 when it has none). */
  last_seq: number;
  /** Absent: the defaults (no topic, no owner, no modes, nobody with a role, no bans). */
  settings?: RoomSettings;
}

/** A registered nick: the key it collides on, its display form and its scrypt hash. */
export interface UserRecord {
  nick_key: string;
  user_name: string;
  /** `scrypt$N$r$p$saltB64$hashB64`; never logged, never sent. */
  password_hash: string;
  created_ts: number;
}

/** A message to append; `sender_key` is the sender's nick key, used for idempotency. */
export interface AppendRecord extends ChatMessage {
  sender_key: string;
}

/**
 * Persistence for rooms, messages and registered users.
 *
 * Contract (checked by test/helpers/store-contract.ts against every implementation):
 * - `append` resolves only after the records are durable to the implementation's standard
 *   (committed transaction for SQLite). Appends made in one event-loop turn (or, with
 *   {@link CommitTiming}, since the last commit) may be committed together; promises resolve in
 *   append order. A rejected append stored nothing of its batch.
 * - seq is assigned by the room actor, never by the store; the store keeps (room_id, seq) unique
 *   and rejects a duplicate.
 * - `(room_id, sender_key, client_msg_id)` is unique when client_msg_id is set;
 *   `findByClientMsgId` returns the stored copy.
 * - Reads see every append whose promise resolved; they return messages in ascending seq.
 * - `createRoom` is idempotent on room_id: it keeps the first record.
 */
export interface Store {
  /** Every room, for start-up. */
  listRooms(): Promise<RoomRecord[]>;
  /** Creates the room if absent (idempotent), with its settings when given. */
  createRoom(room: Omit<RoomRecord, 'last_seq'>): Promise<void>;
  /**
   * Deletes a room and every message of it (idle expiry). The room must have no append in
   * flight (the room actor calls it from its mailbox). A later `createRoom` of the id starts afresh.
   */
  deleteRoom(roomId: string): Promise<void>;
  /**
   * Replaces the room's settings (topic, owner, modes, roles, bans) as one write; rejects for an
   * unknown room. `listRooms` returns them.
   */
  saveRoomSettings(roomId: string, settings: RoomSettings): Promise<void>;
  /** Appends messages durably; see the contract above. */
  append(records: AppendRecord[]): Promise<void>;
  /** Up to `limit` messages with seq > afterSeq, ascending. */
  since(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** The latest `limit` messages with seq < beforeSeq (all when undefined), ascending. */
  before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<ChatMessage[]>;
  /** The lowest seq still retained for the room, or undefined when it holds none. */
  firstSeq(roomId: string): Promise<number | undefined>;
  /** The stored message for an idempotency key, if any. */
  findByClientMsgId(roomId: string, senderKey: string, clientMsgId: string): Promise<ChatMessage | undefined>;
  /** A registered user by nick key. */
  getUser(nickKey: string): Promise<UserRecord | undefined>;
  /** Registers or re-registers a user. */
  putUser(user: UserRecord): Promise<void>;
  /** Flushes pending appends and releases resources. Idempotent. */
  close(): Promise<void>;
}

/**
 * A store whose commits the server can time (the SQLite store): the WebSocket door's write
 * coalescer commits as the first step of each flush, so the acknowledgements and deliveries a
 * commit releases leave in that same flush (docs/performance.md, "Commits in the flush").
 */
export interface CommitTiming {
  /** `request` is called when an append arrives with none pending; undefined: the store times its commits. */
  commitWhen(request: (() => void) | undefined): void;
  /** Commits every pending append now; false when none was pending. */
  commitPending(): boolean;
}

/** The store's {@link CommitTiming}, when it has one. */
export function commitTimingOf(store: Store): CommitTiming | undefined {
  const s = store as Partial<CommitTiming>;
  return typeof s.commitWhen === 'function' && typeof s.commitPending === 'function'
    ? (store as Store & CommitTiming)
    : undefined;
}
