import type { EventEmitter } from 'node:events';

interface Waiter {
  lowWater: number;
  resolve: () => void;
}

/**
 * The waiting side of `Connection.drained`, shared by the socket transports. A waiter is
 * resolved when the transport reports progress ({@link check}: after it handed a write burst to
 * the socket, and on the stream's `drain` event) and the buffered bytes are at or below its
 * low-water mark, or when the connection closes ({@link release}).
 *
 * Why the stream's `drain` event is enough: a low-water mark at or above the stream's
 * highWaterMark (16 KiB) is only passed after a write that returned false, and such a write
 * always ends in a `drain` once the kernel took everything. The `drain` listener is attached
 * only while somebody waits, so an idle connection costs nothing here.
 */
export class DrainWaiters {
  private waiters: Waiter[] = [];

  constructor(
    private readonly buffered: () => number,
    private readonly stream: EventEmitter,
  ) {}

  /** Resolves once `buffered()` is at most `lowWater` (at once when it is already). */
  wait(lowWater: number): Promise<void> {
    if (this.buffered() <= lowWater) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.waiters.push({ lowWater, resolve }) === 1) this.stream.on('drain', this.check);
    });
  }

  /** Resolves the waiters whose mark is met; call after every write burst. */
  readonly check = (): void => {
    if (this.waiters.length === 0) return;
    const now = this.buffered();
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (now <= w.lowWater) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
    if (still.length === 0) this.stream.off('drain', this.check);
  };

  /** The connection is gone: resolves everybody (they find the session closed). */
  release(): void {
    const all = this.waiters;
    this.waiters = [];
    this.stream.off('drain', this.check);
    for (const w of all) w.resolve();
  }
}
