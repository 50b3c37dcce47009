import { DEFAULT_ROOM, MAX_MESSAGE_CHARS } from '../../protocol/limits.js';
import type { KeyedLimitOptions } from '../limits/keyed.js';
import { DEFAULT_MESSAGE_RATE, type RateLimitOptions } from '../limits/rate-limit.js';
import { SERVE_DEFAULTS } from '../../options/serve.js';
import {
  DEFAULT_PASSWORD_RATE,
  DEFAULT_PRESENCE_RATE,
  DEFAULT_PRESENCE_RATE_PER_ADDRESS,
  DEFAULT_READ_RATE,
  DEFAULT_READ_RATE_PER_ADDRESS,
  DEFAULT_ROOM_CREATE_PER_ADDRESS,
  DEFAULT_ROOM_CREATE_RATE,
  DEFAULT_ROOM_IDLE_EXPIRY_MS,
} from '../limits/request-limit.js';
import type { MessageFilter } from '../moderation/filters.js';
import type { RoomObserver } from '../room.js';
import type { Store } from '../store/store-types.js';
import type { Engine } from '../cluster/engine.js';

/** Hub settings; every one has a default. */
export interface HubOptions {
  store: Store;
  /**
   * Cluster mode (`--redis`): rooms, seqs, history, nicks and presence go through this engine,
   * shared with every other node; `store` is then unused. Absent: one node on `store`.
   */
  engine?: Engine;
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
  /**
   * Server operators (`--operators`): registered nicks that act as owner of every room and may
   * `kill`; they count only once identified with the nick's password.
   */
  operators?: string[];
}

/** The hub's settings with every default filled in (the two hooks stay optional). */
export type ResolvedHubOptions = Required<Omit<HubOptions, 'onInternalError' | 'observer' | 'engine'>> &
  HubOptions;

/** Fills in the defaults of every setting the caller left out. */
export function resolveHubOptions(options: HubOptions): ResolvedHubOptions {
  return {
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
    operators: [],
    ...options,
  };
}
