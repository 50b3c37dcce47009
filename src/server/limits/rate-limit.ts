import { realClock, type Clock } from './clock.js';
import { SERVE_DEFAULTS } from '../../options/serve.js';

/** Settings of a per-connection message rate limit. */
export interface RateLimitOptions {
  /** Messages allowed at once after a quiet spell. */
  burst: number;
  /** Messages per second allowed on average. */
  perSecond: number;
  /**
   * A client refused this many times within `floodWindowMs` is flooding, not bursting, and is
   * disconnected. The default (2 x rate x window) trips at about 3x the allowed rate sustained.
   */
  floodRefusals?: number;
  floodWindowMs?: number;
  clock?: Clock;
}

/** The default message limit (`--msg-burst`, `--msg-rate`): a burst, then so many per second. */
export const DEFAULT_MESSAGE_RATE: RateLimitOptions = {
  burst: SERVE_DEFAULTS.msgBurst,
  perSecond: SERVE_DEFAULTS.msgRate,
};

/** The outcome of asking to send one message. */
export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number; flooding: boolean };

/**
 * A token bucket (burst, then `perSecond`) plus a flood detector over its refusals: a client is
 * flooding when it has been refused without a quiet second for the whole window and the
 * refusals in that window reach the threshold. A short burst over the limit is only refused.
 * One instance per connection; counts are kept in one-second buckets, so memory is constant.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly clock: Clock;
  private readonly floodRefusals: number;
  private readonly floodWindowMs: number;
  /** Refusals per one-second bucket, over the window (ring buffer indexed by second). */
  private readonly buckets: number[];
  private bucketSecond = 0;
  private lastRefusal = -Infinity;
  private streakStart = 0;

  constructor(private readonly options: RateLimitOptions) {
    this.clock = options.clock ?? realClock;
    this.tokens = options.burst;
    this.last = this.clock();
    this.floodWindowMs = options.floodWindowMs ?? 10_000;
    this.floodRefusals =
      options.floodRefusals ?? Math.max(1, Math.round(2 * options.perSecond * (this.floodWindowMs / 1000)));
    this.buckets = new Array<number>(Math.max(1, Math.ceil(this.floodWindowMs / 1000))).fill(0);
  }

  /** Takes one token if there is one. */
  take(): RateDecision {
    const now = this.clock();
    this.tokens = Math.min(
      this.options.burst,
      this.tokens + ((now - this.last) / 1000) * this.options.perSecond,
    );
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    const retryAfterMs = Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000);
    return { ok: false, retryAfterMs, flooding: this.recordRefusal(now) };
  }

  private recordRefusal(now: number): boolean {
    const second = Math.floor(now / 1000);
    // Clear the buckets of the seconds that passed since the last refusal.
    const gap = Math.min(this.buckets.length, second - this.bucketSecond);
    for (let i = 1; i <= gap; i++) this.buckets[(this.bucketSecond + i) % this.buckets.length] = 0;
    if (gap > 0 || this.bucketSecond === 0) this.bucketSecond = second;
    this.buckets[second % this.buckets.length]! += 1;
    if (now - this.lastRefusal > 1000) this.streakStart = now;
    this.lastRefusal = now;
    if (now - this.streakStart < this.floodWindowMs) return false;
    let total = 0;
    for (const n of this.buckets) total += n;
    return total >= this.floodRefusals;
  }
}
