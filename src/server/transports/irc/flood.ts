import { normaliseAddress } from '../../limits/admission.js';
import { KeyedRateLimiters } from '../../limits/keyed.js';
import { RateLimiter } from '../../limits/rate-limit.js';

/** Flood control settings, as ergo's fakelag: a burst, then a steady rate, then lag, then a cut. */
export interface FloodOptions {
  /** Lines a connection may send at once. */
  burst: number;
  /** Lines per second after the burst. */
  perSecond: number;
  /** The same for all connections from one address together. */
  addressBurst: number;
  addressPerSecond: number;
  /** Lines held back (lagged) at most; one more and the connection is cut ("Excess Flood"). */
  maxLagged: number;
}

/** Defaults close to ergo's (burst 5, 2 per second) with room for a client's registration burst. */
export const FLOOD_DEFAULTS: FloodOptions = {
  burst: 10,
  perSecond: 2,
  addressBurst: 40,
  addressPerSecond: 8,
  maxLagged: 60,
};

/** The per-address buckets, shared by every IRC connection of the door. */
export function addressBuckets(options: FloodOptions): KeyedRateLimiters {
  return new KeyedRateLimiters({ burst: options.addressBurst, perSecond: options.addressPerSecond });
}

/**
 * One connection's fake lag: lines pass at once while its bucket and its address's bucket have
 * tokens; past that they wait their turn (the client sees its commands answered later, as on
 * ergo), and a client that keeps sending until {@link FloodOptions.maxLagged} lines wait is cut.
 */
export class FakeLag {
  private readonly own: RateLimiter;
  private readonly queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: FloodOptions,
    private readonly addresses: KeyedRateLimiters,
    private readonly address: string,
    /** Runs one line that got through. */
    private readonly run: (line: string) => void,
    /** The client flooded past the bound. */
    private readonly flooded: () => void,
  ) {
    this.own = new RateLimiter({ burst: options.burst, perSecond: options.perSecond });
    this.address = normaliseAddress(address);
  }

  /** Lines read from the client, in order. */
  push(lines: string[]): void {
    if (this.stopped) return;
    this.queue.push(...lines);
    if (this.queue.length > this.options.maxLagged) {
      this.stop();
      this.flooded();
      return;
    }
    this.pump();
  }

  /** Lines waiting their turn. */
  get lagged(): number {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
  }

  private pump(): void {
    if (this.timer !== undefined) return;
    while (!this.stopped && this.queue.length > 0) {
      const own = this.own.take();
      if (!own.ok) return this.later(own.retryAfterMs);
      const shared = this.addresses.take(this.address);
      if (!shared.ok) return this.later(shared.retryAfterMs);
      this.run(this.queue.shift()!);
    }
  }

  private later(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, ms),
    );
    this.timer.unref();
  }
}
