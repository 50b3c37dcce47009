import { SERVE_DEFAULTS } from '../../options/serve.js';

/** Settings of a {@link FlushPacer}; all optional. */
export interface PacerOptions {
  /**
   * Share of wall time that writing may take under sustained load, from 0 (exclusive) to 1.
   * Default 0.25: flushes are held back so that at most a quarter of the event loop goes to them.
   */
  writeShare?: number;
  /** Latency budget: the longest a flush is ever held back, ms. 0 turns the pacing off. Default 25. */
  maxDelayMs?: number;
  /** A fixed floor: flushes begin at least this many ms apart (centrifuge's WriteDelay). Default 0. */
  minIntervalMs?: number;
}

/** Defaults of {@link PacerOptions}. */
export const PACER_DEFAULTS = {
  writeShare: SERVE_DEFAULTS.writeShare / 100,
  maxDelayMs: SERVE_DEFAULTS.maxWriteDelay,
  minIntervalMs: SERVE_DEFAULTS.writeDelay,
} as const;

/**
 * Write time (ms) that may go out at once after a quiet spell before any spacing starts: enough
 * for a reply or a small room's broadcast, far less than one flush of a big room.
 */
const BURST_MS = 1;

/**
 * When to flush, from how long flushes took: a token bucket of write time. Time earns
 * `writeShare` ms of writing per ms (up to {@link BURST_MS} banked); each flush spends what it
 * took. While the balance is negative, the next flush waits until it is repaid, at most
 * `maxDelayMs`. So:
 *
 * - a quiet server, or the first flush after a quiet spell, has credit and flushes at once;
 * - under load, writing settles at `writeShare` of the time whatever the cause (one big room at
 *   an everyday rate, where each message arrives in its own turn and costs a write per member,
 *   or many small rooms): the wait lets events pile up per socket, so each write carries more;
 * - no event waits longer than `maxDelayMs` for its flush to begin (the latency budget), and the
 *   debt is bounded by it, so a burst of load is forgotten within one budget.
 *
 * Pure: every method takes the time (ms, any monotonic clock), so the rule is tested without timers.
 */
export class FlushPacer {
  private readonly share: number;
  private readonly maxDelayMs: number;
  private readonly minIntervalMs: number;
  /** Write time that may be spent now (ms); negative: owed. */
  private balance = BURST_MS;
  /** When `balance` was last brought up to date. */
  private updatedAt = -Infinity;
  private lastStart = -Infinity;

  constructor(options: PacerOptions = {}) {
    const share = options.writeShare ?? PACER_DEFAULTS.writeShare;
    if (!(share > 0 && share <= 1)) throw new RangeError(`writeShare must be in (0, 1], got ${share}`);
    this.share = share;
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? PACER_DEFAULTS.maxDelayMs);
    this.minIntervalMs = Math.max(0, options.minIntervalMs ?? PACER_DEFAULTS.minIntervalMs);
  }

  /** How long after `now` the next flush should begin; 0: at the end of this turn. */
  delay(now: number): number {
    this.earn(now);
    const floor = this.lastStart + this.minIntervalMs - now;
    const owed = this.balance < 0 ? Math.min(this.maxDelayMs, -this.balance / this.share) : 0;
    return Math.max(0, floor, owed);
  }

  /** Records a flush that began at `start` and ended at `end`. */
  flushed(start: number, end: number): void {
    this.earn(start);
    this.lastStart = start;
    if (this.maxDelayMs === 0) return;
    const took = Math.max(0, end - start);
    // Time passes during the flush too: `share` of it is earned back while it runs.
    this.balance += took * this.share - took;
    this.updatedAt = end;
    // Never owe more than one latency budget's worth: wait at most maxDelayMs, then start afresh.
    this.balance = Math.max(this.balance, -this.maxDelayMs * this.share);
  }

  private earn(now: number): void {
    if (now > this.updatedAt) {
      this.balance = Math.min(BURST_MS, this.balance + (now - this.updatedAt) * this.share);
      this.updatedAt = now;
    }
  }
}

/** A door's write pacing settings, as the server options name them. */
export interface WritePacing {
  /** Writes to a socket at least this many ms apart under sustained traffic. Default 0. */
  writeDelayMs?: number;
  /** Latency budget of the load-following spacing; 0 turns it off. Default 25. */
  maxWriteDelayMs?: number;
  /** Share of the event loop writing may take under load before flushes are spaced (0-1]. Default 0.25. */
  writeShare?: number;
}

/** The {@link PacerOptions} that a door's {@link WritePacing} settings ask for. */
export function pacerOptionsOf(p: WritePacing): PacerOptions {
  return {
    ...(p.writeDelayMs !== undefined ? { minIntervalMs: p.writeDelayMs } : {}),
    ...(p.maxWriteDelayMs !== undefined ? { maxDelayMs: p.maxWriteDelayMs } : {}),
    ...(p.writeShare !== undefined ? { writeShare: p.writeShare } : {}),
  };
}
