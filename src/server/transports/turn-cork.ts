import type { Writable } from 'node:stream';
import type { WriteCoalescer } from './write-coalescer.js';

/**
 * Corks a stream on its first write since the last flush and uncorks it when the door's
 * {@link WriteCoalescer} flushes: at the end of the turn, or later when writing has been taking
 * more than its share of the event loop. So everything queued meanwhile for one connection (a
 * fan-out batch, a reply and its notices, the next messages of a busy room) leaves in one write.
 * Used by the line and SSE doors; WebSocket frames are queued and coalesced by their transport.
 */
export class TurnCork {
  private corked = false;

  /** `afterFlush` runs once the queued bytes were handed to the stream (drain waiters check then). */
  constructor(
    private readonly stream: Writable,
    private readonly coalescer: WriteCoalescer<TurnCork>,
    private readonly afterFlush?: () => void,
  ) {}

  write(bytes: Buffer | string): void {
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      this.coalescer.mark(this);
    }
    this.stream.write(bytes);
  }

  /** Uncorks: the bytes written since the cork leave in one write. (`end()` uncorks by itself.) */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
    this.afterFlush?.();
  }
}
