import type { Writable } from 'node:stream';

/**
 * Corks a stream on the first write of an event-loop turn and uncorks it on the next tick, so
 * everything a turn queues for one connection (a fan-out batch, a reply and its notices) leaves
 * in one write. Used by the line and SSE doors; WebSocket frames have their own coalescer.
 */
export class TurnCork {
  private corked = false;

  /** `afterFlush` runs once the turn's bytes were handed to the stream (drain waiters check then). */
  constructor(
    private readonly stream: Writable,
    private readonly afterFlush?: () => void,
  ) {}

  write(bytes: Buffer | string): void {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream.uncork();
        this.afterFlush?.();
      });
    }
    this.stream.write(bytes);
  }
}
