import { describe, expect, it } from 'vitest';
import { FlushPacer } from '../../../src/server/transports/flush-pacer.js';

/** Runs flushes of `cost` ms whenever the pacer allows, with an event every `every` ms; returns the flush start times. */
function simulate(pacer: FlushPacer, cost: number, every: number, until: number): number[] {
  const starts: number[] = [];
  let t = 0;
  while (t < until) {
    // An event arrives at t; the flush begins after the pacer's delay, takes `cost`.
    const start = t + pacer.delay(t);
    pacer.flushed(start, start + cost);
    starts.push(start);
    // The next event is the first one after this flush ended.
    t = Math.max(t + every, start + cost);
    t = Math.ceil(t / every) * every;
  }
  return starts;
}

describe('FlushPacer', () => {
  it('lets the first flush go at once, and a quiet server flushes at once every time', () => {
    const p = new FlushPacer();
    expect(p.delay(1000)).toBe(0);
    p.flushed(1000, 1000.05); // a reply: 50 µs of writing
    expect(p.delay(1000.06)).toBe(0);
    p.flushed(1000.06, 1000.1);
    // Another event a second later: long repaid.
    expect(p.delay(2000)).toBe(0);
  });

  it('holds the next flush back so writing takes at most its share of the time', () => {
    const p = new FlushPacer({ writeShare: 0.25, maxDelayMs: 100 });
    // A 1,000-member room: one flush writes 1,000 sockets and takes 8 ms.
    p.flushed(0, 8);
    // Owed 8 x 0.75 - 1 ms of credit = 5 ms of writing, repaid at 0.25 ms per ms: 20 ms after the flush ended.
    expect(p.delay(8)).toBeCloseTo(20, 6);
    expect(p.delay(18)).toBeCloseTo(10, 6);
    expect(p.delay(28)).toBe(0);
  });

  it('never waits longer than the latency budget, however long the flush took', () => {
    const p = new FlushPacer({ writeShare: 0.25, maxDelayMs: 25 });
    p.flushed(0, 90); // a 10,000-member room
    expect(p.delay(90)).toBe(25);
    // And the debt is forgotten after one budget: no wait piles up over several long flushes.
    p.flushed(115, 205);
    expect(p.delay(205)).toBe(25);
    expect(p.delay(230)).toBe(0);
  });

  it('under sustained load, settles writing at the share of the time', () => {
    // Events every 10 ms (100 msgs/s), each flush 8 ms: unpaced, writing would take 80% of the time.
    const p = new FlushPacer({ writeShare: 0.25, maxDelayMs: 100 });
    const starts = simulate(p, 8, 10, 10_000);
    const writing = (starts.length * 8) / 10_000;
    expect(writing).toBeGreaterThan(0.2);
    expect(writing).toBeLessThanOrEqual(0.26);
    // Unpaced, there would be one flush per event.
    expect(starts.length).toBeLessThan(1000 / 3);
  });

  it('does not space small flushes that take little of the time (many rooms with a trickle)', () => {
    const p = new FlushPacer({ writeShare: 0.25, maxDelayMs: 25 });
    // 0.1 ms of writing every 2 ms: 5% of the time.
    for (let t = 0; t < 1000; t += 2) {
      expect(p.delay(t)).toBe(0);
      p.flushed(t, t + 0.1);
    }
  });

  it('a small flush between big ones does not reset the debt', () => {
    const p = new FlushPacer({ writeShare: 0.25, maxDelayMs: 100 });
    p.flushed(0, 8);
    const owed = p.delay(8);
    // The delay ran out only partly when a lone reply had to go (say, its own flush after the cap).
    p.flushed(10, 10.05);
    expect(p.delay(10.05)).toBeGreaterThan(owed - 10.05 + 8 - 0.01);
  });

  it('with maxDelayMs 0 never holds a flush back', () => {
    const p = new FlushPacer({ maxDelayMs: 0 });
    for (let t = 0; t < 100; t += 1) {
      expect(p.delay(t)).toBe(0);
      p.flushed(t, t + 0.9);
    }
  });

  it('keeps a fixed write delay as a floor between flush starts', () => {
    const p = new FlushPacer({ minIntervalMs: 50, maxDelayMs: 0 });
    expect(p.delay(0)).toBe(0);
    p.flushed(0, 0.01);
    expect(p.delay(10)).toBe(40);
    expect(p.delay(50)).toBe(0);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => new FlushPacer({ writeShare: 0 })).toThrow(RangeError);
    expect(() => new FlushPacer({ writeShare: 1.5 })).toThrow(RangeError);
  });
});
