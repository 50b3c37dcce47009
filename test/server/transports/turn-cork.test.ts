import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TurnCork } from '../../../src/server/transports/turn-cork.js';
import { WriteCoalescer } from '../../../src/server/transports/write-coalescer.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A stream that records each batch the stream machinery hands it (one per uncork). */
function recorder(): { stream: Writable; batches: string[] } {
  const batches: string[] = [];
  const stream = new Writable({
    writev(chunks, cb) {
      batches.push(chunks.map((c) => String(c.chunk)).join(''));
      cb();
    },
    write(chunk, _enc, cb) {
      batches.push(String(chunk));
      cb();
    },
  });
  return { stream, batches };
}

describe('TurnCork', () => {
  it("hands a turn's writes to the stream as one batch when the door's coalescer flushes", async () => {
    // Pacing off: this is about batching, and a slow first flush on a busy machine would be paced.
    const coalescer = new WriteCoalescer<TurnCork>({ maxDelayMs: 0 });
    const { stream, batches } = recorder();
    let flushed = 0;
    const cork = new TurnCork(stream, coalescer, () => flushed++);
    cork.write('a\n');
    cork.write('b\n');
    expect(batches).toEqual([]);
    await nextTurn();
    expect(batches).toEqual(['a\nb\n']);
    expect(flushed).toBe(1);
    cork.write('c\n');
    await nextTurn();
    expect(batches).toEqual(['a\nb\n', 'c\n']);
  });

  it('shares one flush among the connections of a door', async () => {
    const coalescer = new WriteCoalescer<TurnCork>({ maxDelayMs: 0 });
    const one = recorder();
    const two = recorder();
    const a = new TurnCork(one.stream, coalescer);
    const b = new TurnCork(two.stream, coalescer);
    a.write('x');
    b.write('y');
    a.write('z');
    await nextTurn();
    expect([one.batches, two.batches]).toEqual([['xz'], ['y']]);
  });
});
