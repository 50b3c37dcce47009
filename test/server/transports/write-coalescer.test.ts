import { describe, expect, it } from 'vitest';
import { FIRST_STEP_WAIT_MS, WriteCoalescer } from '../../../src/server/transports/write-coalescer.js';
import { manualClock } from '../../helpers/wait.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function conn(events = 1): { flushes: number; flush(): number } {
  return {
    flushes: 0,
    flush() {
      this.flushes++;
      return events;
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
    const c = new WriteCoalescer<ReturnType<typeof conn>>({ minIntervalMs: 50 });
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

  it('holds the next flush back after a flush that took long, and flushes at once again when quiet', async () => {
    const c = new WriteCoalescer<{ flushes: number; flush(): void }>({ maxDelayMs: 30, writeShare: 0.25 });
    const slow = {
      flushes: 0,
      flush() {
        this.flushes++;
        const until = performance.now() + 5;
        while (performance.now() < until); // a 5 ms flush: a big room's writes
      },
    };
    c.mark(slow);
    await nextTurn();
    expect(slow.flushes).toBe(1);
    const after = performance.now();
    c.mark(slow);
    await nextTurn();
    expect(slow.flushes).toBe(1);
    while (slow.flushes < 2) await sleep(2);
    // Owed 5 x 0.75 - 1 = 2.75 ms of writing, repaid at a quarter: ~11 ms (timers may fire a little early).
    expect(performance.now() - after).toBeGreaterThanOrEqual(8);
  });

  it('keeps flushing every turn while flushes take little time', async () => {
    // Flushes take no time on this clock, and 1 ms passes between turns: on a busy machine a
    // flush preempted in real time can look long and rightly start pacing, which is not what
    // this test is about.
    const { clock, advance } = manualClock();
    const c = new WriteCoalescer<ReturnType<typeof conn>>({ maxDelayMs: 30, now: clock });
    const conns = Array.from({ length: 100 }, () => conn(1));
    for (let turn = 1; turn <= 3; turn++) {
      for (const x of conns) c.mark(x);
      await nextTurn();
      expect(conns.every((x) => x.flushes === turn)).toBe(true);
      advance(1);
    }
  });

  describe('with a first step (the store commit)', () => {
    /**
     * A first step that, like a commit, settles what was appended since the last one; the "room"
     * marks `target` after two awaits and, `again` times, appends once more right then (the
     * messages that queued behind its committed batch).
     */
    function committingStep(c: WriteCoalescer<ReturnType<typeof conn>>, target: ReturnType<typeof conn>) {
      const step = { runs: 0, commits: 0, again: 0 };
      let waiting: (() => void)[] = [];
      const append = (): void => {
        const committed = new Promise<void>((r) => waiting.push(r));
        void (async () => {
          await committed;
          await Promise.resolve(); // the room's own awaits between the commit and its broadcast
          c.mark(target);
          if (step.again > 0) {
            step.again--;
            append();
          }
        })();
        c.wake();
      };
      c.lead(() => {
        step.runs++;
        if (waiting.length === 0) return false;
        step.commits++;
        for (const release of waiting) release();
        waiting = [];
        return true;
      });
      return { step, append };
    }

    it('writes what the step released in the same flush, even when the next flush would be held back', async () => {
      // A fixed 50 ms floor between flushes (on a clock that never moves): a mark made after the
      // flush had written would wait for it, so a write by then is the same flush.
      const { clock } = manualClock();
      const c = new WriteCoalescer<ReturnType<typeof conn>>({ minIntervalMs: 50, now: clock });
      const other = conn();
      c.mark(other);
      await nextTurn();
      expect(other.flushes).toBe(1);
      const member = conn();
      const { step, append } = committingStep(c, member);
      append();
      while (step.runs === 0) await new Promise((r) => setTimeout(r, 5));
      expect([step.commits, member.flushes]).toEqual([1, 1]);
    });

    it('runs the step first in every flush, and commits once however many appends asked', async () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      const member = conn();
      const { step, append } = committingStep(c, member);
      append();
      append();
      c.wake();
      await nextTurn();
      expect([step.commits, member.flushes]).toEqual([1, 1]);
      // A flush asked for by a mark alone runs the step too, which finds nothing to do.
      c.mark(member);
      await nextTurn();
      expect([step.runs, step.commits, member.flushes]).toEqual([3, 1, 2]);
    });

    it('commits in a second step what the first released appended, and writes both in that flush', async () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      const member = conn();
      const { step, append } = committingStep(c, member);
      step.again = 1;
      append();
      // All in the one turn: no socket reads between the commit and the write.
      await nextTurn();
      expect([step.commits, member.flushes]).toEqual([2, 1]);
      for (let i = 0; i < 3; i++) await nextTurn();
      expect([step.commits, member.flushes]).toEqual([2, 1]);
    });

    it('waits for what the step sent away, runs the step again a turn after its answer, and writes both in that flush', async () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      const member = conn();
      const other = conn();
      let answer: (() => void) | undefined;
      const runs: string[] = [];
      const steps: number[] = [];
      c.lead((n) => {
        steps.push(n);
        if (runs.length === 0) {
          runs.push('sent');
          // A commit round to Redis: its answer comes later, in another callback.
          return new Promise<void>((r) => (answer = r));
        }
        // The batch that came with the answer is delivered now.
        runs.push('routed');
        c.mark(member);
        return true;
      });
      c.wake();
      await nextTurn();
      expect(runs).toEqual(['sent']);
      // The event loop runs meanwhile; a mark made now joins the flush that waits.
      c.mark(other);
      await nextTurn();
      expect([member.flushes, other.flushes]).toEqual([0, 0]);
      answer!();
      while (member.flushes === 0) await nextTurn();
      expect(runs).toEqual(['sent', 'routed']);
      expect(steps).toEqual([1, 2]); // the step is told which run of the flush it is
      expect([member.flushes, other.flushes]).toEqual([1, 1]);
    });

    it('takes one first step: a second lead is refused, not a silent replacement', () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      c.lead(() => false);
      expect(() => c.lead(() => true)).toThrow(/already has a first step/);
    });

    it('writes without the answer once FIRST_STEP_WAIT_MS passed', async () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      const member = conn();
      let steps = 0;
      c.lead(() => {
        steps++;
        // An answer that never comes (Redis away): the flush must not wait for it.
        return steps === 1 ? new Promise<void>(() => {}) : false;
      });
      c.mark(member);
      const started = performance.now();
      while (member.flushes === 0) await sleep(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_STEP_WAIT_MS - 1);
      expect(steps).toBe(2);
    });

    it('writes after two steps, and opens another flush for what the second released appended', async () => {
      const c = new WriteCoalescer<ReturnType<typeof conn>>();
      const member = conn();
      const { step, append } = committingStep(c, member);
      step.again = 2;
      append();
      await nextTurn();
      expect([step.commits, member.flushes]).toEqual([2, 1]);
      await nextTurn();
      expect([step.commits, member.flushes]).toEqual([3, 2]);
    });
  });
});
