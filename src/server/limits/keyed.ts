import { realClock, type Clock } from './clock.js';
import { RateLimiter, type RateDecision, type RateLimitOptions } from './rate-limit.js';

/** Settings of a set of token buckets kept per key (client address, nick). */
export interface KeyedLimitOptions extends RateLimitOptions {
  /**
   * Keys remembered at most. Past it the least recently used key is forgotten (it gets a full
   * bucket again if it comes back), so a flood from many addresses cannot grow memory.
   */
  maxKeys?: number;
}

/** Default bound on remembered keys: ~10,000 x a few hundred bytes. */
const DEFAULT_MAX_KEYS = 10_000;

/**
 * One {@link RateLimiter} per key, for limits that outlive a connection (a POST is a connection
 * of its own, so a per-connection bucket would start full every time). Memory is bounded: keys
 * are kept in least-recently-used order, a key idle long enough for its bucket to be full again
 * is dropped (a fresh bucket would decide exactly the same), and past `maxKeys` the oldest goes.
 */
export class KeyedRateLimiters {
  private readonly limiters = new Map<string, { limiter: RateLimiter; lastUse: number }>();
  private readonly clock: Clock;
  private readonly maxKeys: number;
  /** Idle time after which a bucket is full and its flood streak over: forgetting it changes nothing. */
  private readonly idleMs: number;

  constructor(private readonly options: KeyedLimitOptions) {
    this.clock = options.clock ?? realClock;
    this.maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
    // A flood streak ends after a quiet second (see RateLimiter), hence the 1,000 ms floor.
    this.idleMs = Math.max(1000, (options.burst / options.perSecond) * 1000);
  }

  /** Takes one token from `key`'s bucket. */
  take(key: string): RateDecision {
    const now = this.clock();
    this.forgetIdle(now);
    let entry = this.limiters.get(key);
    if (entry)
      this.limiters.delete(key); // re-inserted below: most recently used goes last
    else entry = { limiter: new RateLimiter({ ...this.options, clock: this.clock }), lastUse: now };
    entry.lastUse = now;
    this.limiters.set(key, entry);
    while (this.limiters.size > this.maxKeys) {
      const oldest = this.limiters.keys().next();
      if (oldest.done) break;
      this.limiters.delete(oldest.value);
    }
    return entry.limiter.take();
  }

  /** Drops idle keys from the old end; amortised O(1) per take since each key is dropped once. */
  private forgetIdle(now: number): void {
    for (const [key, entry] of this.limiters) {
      if (now - entry.lastUse < this.idleMs) return;
      this.limiters.delete(key);
    }
  }

  /** Keys remembered now (tests, metrics). */
  get size(): number {
    return this.limiters.size;
  }
}
