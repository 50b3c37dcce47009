import { roomKey } from '../../protocol/room-key.js';

/** The part of a room's keys that names it: the folded room key, so `DEV` and `dev` share one set. */
const tag = (room: string): string => `{r:${roomKey(room)}}`;

/**
 * Redis key names (docs/cluster.md has the table). Room keys carry the hash tag `{r:ID}` so a
 * future Redis Cluster deployment would keep one room on one slot; the scripts also touch
 * `chat:cluster` and the global hashes, so today they need a single Redis (with or without replicas).
 */
export const keys = {
  /** hash: epoch, base (the first seq of rooms created in this epoch), created_ms. */
  cluster: 'chat:cluster',
  /** hash: room key (folded) -> JSON record (room_id as spelt, room_name, created_by, created_ts). */
  rooms: 'chat:rooms',
  /** zset: room key (folded) -> ms (Redis's clock) of its last activity, for idle expiry; kept rooms are absent. */
  roomActive: 'chat:roomactive',
  /** hash: room key (folded) -> members present on any node. */
  roomCounts: 'chat:roomcounts',
  /** hash: seq (the highest seq committed; never lowered, never deleted with the room's messages). */
  meta: (room: string) => `chat:${tag(room)}:meta`,
  /** stream: entry id `<seq>-0`, field `m` = the message JSON; MAXLEN ~ retain. */
  log: (room: string) => `chat:${tag(room)}:log`,
  /** zset: `sender_key \0 client_msg_id` -> seq; trimmed to what the stream still holds. */
  idem: (room: string) => `chat:${tag(room)}:idem`,
  /** pub/sub channel: committed batches and presence notices of the room. */
  live: (room: string) => `chat:${tag(room)}:live`,
  /** zset: `node:session` -> join time (ms). */
  presence: (room: string) => `chat:${tag(room)}:pres`,
  /** hash: `node:session` -> display nick. */
  presenceNicks: (room: string) => `chat:${tag(room)}:pnick`,
  /** string: `node|session|sha256(resume_token)|nick` of the nick's holder. */
  nick: (nickKey: string) => `chat:nick:${nickKey}`,
  /** hash: a registered user (user_name, password_hash, created_ts). */
  user: (nickKey: string) => `chat:user:${nickKey}`,
  /** set: what a node holds (`n:<nick key>\0<session>`, `p:<room>\0<node:session>`), for reaping a dead node later. */
  nodeOwn: (node: string) => `chat:node:${node}:own`,
  /** set: a node's own set moved aside by REAP_BEGIN, emptied slice by slice by REAP_SLICE. */
  nodeReap: (node: string) => `chat:node:${node}:reap`,
  /** set: node ids being reaped (a reap set not empty yet): any node continues them. */
  reaping: 'chat:reaping',
  /** string with a TTL: the node is alive while it exists (see leases.ts). */
  nodeLease: (node: string) => `chat:node:${node}:lease`,
  /** set: the node ids that have held a lease and were not reaped yet. */
  nodes: 'chat:nodes',
  /** hash: `v` (bumped by every change), `json` (RoomSettings: topic, owner, modes, roles, bans). */
  settings: (room: string) => `chat:${tag(room)}:set`,
  /** hash: nick key -> display nick of every nick held (set and dropped with the nick), for WHO masks. */
  online: 'chat:online',
  /** hash: nick key -> away message of an online user (dropped with the nick). */
  away: 'chat:away',
  /** pub/sub channel: `{t: 'nick', nick, online}` when a nick is claimed afresh or freed (MONITOR). */
  nickEvents: 'chat:nicks',
  /** pub/sub channel: events for one node (nick takeover kicks, DMs, whois questions and answers). */
  nodeChannel: (node: string) => `chat:node:${node}`,
} as const;
