import { normaliseAddress } from './admission.js';
import { KeyedRateLimiters, type KeyedLimitOptions } from './keyed.js';
import { RateLimiter, type RateDecision, type RateLimitOptions } from './rate-limit.js';

/** A limit kept twice: one bucket per connection and one per client address. */
export interface DualLimitOptions {
  /** The connection's own bucket; `false` turns it off. */
  perConnection: RateLimitOptions | false;
  /**
   * The address's bucket, shared by every connection from it, so a fresh connection does not
   * start with a full bucket; `false` turns it off. Loopback is not exempt: the exemptions of
   * `--limit-exempt` cover connection counts only.
   */
  perAddress: KeyedLimitOptions | false;
}

/**
 * A rate limit charged to both the connection and its address (reads, presence changes, room
 * creation). The connection's bucket is asked first, so a connection that is over its own limit
 * does not spend its address's tokens (which its neighbours share).
 */
export class DualLimit {
  private readonly byAddress: KeyedRateLimiters | undefined;

  constructor(private readonly options: DualLimitOptions) {
    this.byAddress = options.perAddress ? new KeyedRateLimiters(options.perAddress) : undefined;
  }

  /**
   * Takes one token from the connection's bucket, kept in `holder[field]` (a session field, made
   * on first use), and one from the address's.
   */
  take<K extends string>(holder: { [F in K]: RateLimiter | undefined }, field: K, remoteAddress: string): RateDecision {
    if (this.options.perConnection) {
      let own = holder[field];
      if (own === undefined) {
        own = new RateLimiter(this.options.perConnection);
        holder[field] = own as (typeof holder)[K];
      }
      const decision = own.take();
      if (!decision.ok) return decision;
    }
    return this.byAddress ? this.byAddress.take(normaliseAddress(remoteAddress)) : { ok: true };
  }

  /** True when neither bucket is kept. */
  get off(): boolean {
    return !this.options.perConnection && !this.options.perAddress;
  }
}

/** Reads (history, users, rooms) one connection may make: a burst of 20, then 5 per second. */
export const DEFAULT_READ_RATE: RateLimitOptions = { burst: 20, perSecond: 5 };
/** Reads one address may make over all its connections: a burst of 100, then 20 per second. */
export const DEFAULT_READ_RATE_PER_ADDRESS: KeyedLimitOptions = { burst: 100, perSecond: 20 };
/**
 * Presence changes (join, leave, nick) one connection may make: a burst of 50 (a client
 * rejoining its rooms after a reconnect), then one per second.
 */
export const DEFAULT_PRESENCE_RATE: RateLimitOptions = { burst: 50, perSecond: 1 };
/** Presence changes one address may make: a burst of 300, then 10 per second. */
export const DEFAULT_PRESENCE_RATE_PER_ADDRESS: KeyedLimitOptions = { burst: 300, perSecond: 10 };
/** New rooms one address may create over all its connections: a burst of 20, then 10 per minute. */
export const DEFAULT_ROOM_CREATE_PER_ADDRESS: KeyedLimitOptions = { burst: 20, perSecond: 10 / 60 };
/** An empty room nobody registered created is deleted after an hour without anyone in it. */
export const DEFAULT_ROOM_IDLE_EXPIRY_MS = 60 * 60 * 1000;
