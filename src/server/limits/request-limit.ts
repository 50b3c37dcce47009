import { SERVE_DEFAULTS } from '../../options/serve.js';
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
  take<K extends string>(
    holder: { [F in K]: RateLimiter | undefined },
    field: K,
    remoteAddress: string,
  ): RateDecision {
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

// The figures are the flags' defaults (src/options/serve.ts), turned into buckets here.
const D = SERVE_DEFAULTS;
/** Reads (history, users, rooms) one connection may make: a burst, then so many per second. */
export const DEFAULT_READ_RATE: RateLimitOptions = { burst: D.readBurst, perSecond: D.readsPerSecond };
/** Reads one address may make over all its connections. */
export const DEFAULT_READ_RATE_PER_ADDRESS: KeyedLimitOptions = {
  burst: D.readBurstPerIp,
  perSecond: D.readsPerSecondPerIp,
};
/**
 * Presence changes (join, leave, nick) one connection may make: a burst big enough for a client
 * rejoining its rooms after a reconnect, then about one per second.
 */
export const DEFAULT_PRESENCE_RATE: RateLimitOptions = {
  burst: D.presenceBurst,
  perSecond: D.presencePerMinute / 60,
};
/** Presence changes one address may make. */
export const DEFAULT_PRESENCE_RATE_PER_ADDRESS: KeyedLimitOptions = {
  burst: D.presenceBurstPerIp,
  perSecond: D.presencePerMinutePerIp / 60,
};
/** New rooms one connection may create. */
export const DEFAULT_ROOM_CREATE_RATE: RateLimitOptions = {
  burst: D.roomBurst,
  perSecond: D.roomsPerMinute / 60,
};
/** New rooms one address may create over all its connections. */
export const DEFAULT_ROOM_CREATE_PER_ADDRESS: KeyedLimitOptions = {
  burst: D.roomBurstPerIp,
  perSecond: D.roomsPerMinutePerIp / 60,
};
/** Password checks one address may make (each costs a full scrypt). */
export const DEFAULT_PASSWORD_RATE: KeyedLimitOptions = {
  burst: D.passwordBurst,
  perSecond: D.passwordsPerMinute / 60,
};
/** An empty room nobody registered created is deleted after this long without anyone in it. */
export const DEFAULT_ROOM_IDLE_EXPIRY_MS = D.roomIdleExpiry * 60 * 1000;
