/** A connection with frames queued that it can write in one go. */
export interface Flushable {
  /** Writes what is queued in one write; returns how many events (frames) that write carried. */
  flush(): number;
}

/** Settings of a {@link WriteCoalescer}; all optional. */
export interface CoalescerOptions {
  /** Flushes are at least this many ms apart under sustained traffic (a fixed write delay). */
  minIntervalMs?: number;
  /**
   * Adaptive spacing: when the last flush found sockets with several events each (they receive
   * faster than they are flushed), the next flush waits up to this long, and at most
   * `adaptiveFactor` x the time the last flush took. 0 turns it off.
   */
  adaptiveMaxMs?: number;
  adaptiveFactor?: number;
}

/** Average events per write at or above which the writes are worth spacing out. */
const BUSY_EVENTS_PER_WRITE = 1.5;

/**
 * Batches socket writes: connections that queued frames are flushed together, each with one
 * write, at the end of the event-loop turn (setImmediate).
 *
 * The write syscall is most of the cost of a delivery on a loopback or LAN socket (profiles: half
 * of the server's CPU at 500k deliveries/s), so under heavy fan-out the flushes are spaced out:
 * after a flush in which sockets had several events each, the next one waits `adaptiveFactor` x
 * that flush's duration (capped at `adaptiveMaxMs`), so writing takes at most about 1/factor of
 * the time and each write carries more events. A quiet server, or many rooms each with a trickle,
 * never meets the condition and keeps flushing at the end of every turn; the first event after a
 * quiet spell always leaves at the end of its turn. `minIntervalMs` adds a fixed floor (centrifuge
 * calls it WriteDelay).
 */
export class WriteCoalescer<T extends Flushable> {
  private readonly dirty = new Set<T>();
  private scheduled = false;
  private lastFlush = -Infinity;
  /** How long the next flush waits after the last one began, from what the last one saw. */
  private spacing: number;
  private readonly minIntervalMs: number;
  private readonly adaptiveMaxMs: number;
  private readonly adaptiveFactor: number;

  constructor(options: CoalescerOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? 0;
    this.adaptiveMaxMs = options.adaptiveMaxMs ?? 10;
    this.adaptiveFactor = options.adaptiveFactor ?? 3;
    this.spacing = this.minIntervalMs;
  }

  /** Queues `conn` for the next flush. Call when its queue goes from empty to non-empty. */
  mark(conn: T): void {
    this.dirty.add(conn);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastFlush + this.spacing - performance.now();
    if (wait < 1) setImmediate(this.run);
    else setTimeout(this.run, wait);
  }

  /** Drops `conn` from the next flush (it flushed itself, e.g. before closing). */
  forget(conn: T): void {
    this.dirty.delete(conn);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const started = performance.now();
    this.lastFlush = started;
    let events = 0;
    for (const conn of this.dirty) events += conn.flush();
    const writes = this.dirty.size;
    this.dirty.clear();
    let spacing = this.minIntervalMs;
    if (this.adaptiveMaxMs > 0 && writes > 0 && events / writes >= BUSY_EVENTS_PER_WRITE) {
      spacing = Math.max(
        spacing,
        Math.min(this.adaptiveMaxMs, this.adaptiveFactor * (performance.now() - started)),
      );
    }
    this.spacing = spacing;
  };
}
