import { describe, expect, it } from 'vitest';
import { WriteCoalescer } from '../../../src/server/transports/write-coalescer.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function conn(): { flushes: number; flush(): void } {
  return {
    flushes: 0,
    flush() {
      this.flushes++;
    },
  };
}

describe('WriteCoalescer', () => {
  it('flushes every marked connection once at the end of the turn, however often it was marked', async () => {
    const c = new WriteCoalescer<ReturnType<typeof conn>>();
    const a = conn();
    const b = conn();
    c.mark(a);
    c.mark(b);
    c.mark(a);
    expect([a.flushes, b.flushes]).toEqual([0, 0]);
    await nextTurn();
    expect([a.flushes, b.flushes]).toEqual([1, 1]);
  });

  it('skips a connection that was forgotten before the flush', async () => {
    const c = new WriteCoalescer<ReturnType<typeof conn>>();
    const a = conn();
    c.mark(a);
    c.forget(a);
    await nextTurn();
    expect(a.flushes).toBe(0);
  });

  it('with a write delay, sends the first burst at once and spaces the next by the delay', async () => {
    const c = new WriteCoalescer<ReturnType<typeof conn>>(50);
    const a = conn();
    c.mark(a);
    await nextTurn();
    expect(a.flushes).toBe(1);
    const marked = performance.now();
    c.mark(a);
    await nextTurn();
    expect(a.flushes).toBe(1);
    while (a.flushes < 2) await sleep(5);
    // Timers may fire up to a millisecond early.
    expect(performance.now() - marked).toBeGreaterThanOrEqual(45);
  });
});
