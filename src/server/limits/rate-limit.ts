import { realClock, type Clock } from './clock.js';

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

/** The outcome of asking to send one message. */
export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number; flooding: boolean };

/**
 * A token bucket (burst, then `perSecond`) plus a flood detector over its refusals.
 * One instance per connection; not shared, so no locking concerns.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly clock: Clock;
  private readonly refusals: number[] = [];
  private readonly floodRefusals: number;
  private readonly floodWindowMs: number;

  constructor(private readonly options: RateLimitOptions) {
    this.clock = options.clock ?? realClock;
    this.tokens = options.burst;
    this.last = this.clock();
    this.floodWindowMs = options.floodWindowMs ?? 10_000;
    this.floodRefusals = options.floodRefusals ?? Math.max(1, Math.round(2 * options.perSecond * (this.floodWindowMs / 1000)));
  }

  /** Takes one token if there is one. */
  take(): RateDecision {
    const now = this.clock();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.last) / 1000) * this.options.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    this.refusals.push(now);
    while (this.refusals.length > 0 && this.refusals[0]! <= now - this.floodWindowMs) this.refusals.shift();
    const retryAfterMs = Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000);
    return { ok: false, retryAfterMs, flooding: this.refusals.length >= this.floodRefusals };
  }
}
