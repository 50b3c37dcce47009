import { describe, expect, it } from 'vitest';
import { CommitRounds } from '../../../src/server/cluster/commit-rounds.js';

interface Item {
  name: string;
  size: number;
}

/** A sender that records each call and answers when told to. */
function recorder() {
  const calls: { items: string[]; answer: (fail?: Error) => void }[] = [];
  let called: (() => void) | undefined;
  const send = (items: Item[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      calls.push({
        items: items.map((i) => i.name),
        answer: (fail) => (fail ? reject(fail) : resolve(items.map((i) => `${i.name}!`))),
      });
      called?.();
    });
  /** Resolves once there are `n` calls. */
  const untilCalls = (n: number): Promise<void> =>
    calls.length >= n
      ? Promise.resolve()
      : new Promise((resolve) => {
          called = () => {
            if (calls.length >= n) resolve();
          };
        });
  return { calls, send, untilCalls };
}

describe('CommitRounds', () => {
  it('sends what is added in one turn as one call, and what comes while it is in flight as the next', async () => {
    const { calls, send, untilCalls } = recorder();
    const rounds = new CommitRounds<Item, string>(send, 100);
    const first = [rounds.add({ name: 'a', size: 1 }), rounds.add({ name: 'b', size: 2 })];
    await untilCalls(1);
    const later = [rounds.add({ name: 'c', size: 1 }), rounds.add({ name: 'd', size: 1 })];
    // The round in flight holds the next one back.
    await new Promise((r) => setImmediate(r));
    expect(calls.map((c) => c.items)).toEqual([['a', 'b']]);
    calls[0]!.answer();
    expect(await Promise.all(first)).toEqual(['a!', 'b!']);
    await untilCalls(2);
    expect(calls[1]!.items).toEqual(['c', 'd']);
    calls[1]!.answer();
    expect(await Promise.all(later)).toEqual(['c!', 'd!']);
  });

  it('timed by the flush: asks once for a round, sends it on sendNow, asks again for what queued behind it', async () => {
    const { calls, send, untilCalls } = recorder();
    const rounds = new CommitRounds<Item, string>(send, 100);
    let requests = 0;
    rounds.timeWith(() => requests++);
    const first = [rounds.add({ name: 'a', size: 1 }), rounds.add({ name: 'b', size: 1 })];
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    // Nothing goes until the flush says so; one request for the lot.
    expect([calls.length, requests]).toEqual([0, 1]);
    const answered = rounds.sendNow();
    expect(answered).toBeDefined();
    await untilCalls(1);
    expect(calls[0]!.items).toEqual(['a', 'b']);
    // While it is in flight, sendNow sends nothing more and gives the same answer to wait for.
    const later = rounds.add({ name: 'c', size: 1 });
    expect(rounds.sendNow()).toBe(answered);
    expect(requests).toBe(1);
    calls[0]!.answer();
    await answered;
    expect(await Promise.all(first)).toEqual(['a!', 'b!']);
    // The round ended with an item behind it: the flush is asked for again.
    expect(requests).toBe(2);
    expect(calls.length).toBe(1);
    const second = rounds.sendNow();
    await untilCalls(2);
    calls[1]!.answer();
    expect(await later).toBe('c!');
    await second;
    expect(rounds.sendNow()).toBeUndefined();
    // Handing the timing back sends what waits at the end of the turn, as before.
    rounds.add({ name: 'd', size: 1 });
    expect(requests).toBe(3);
    rounds.timeWith(undefined);
    await untilCalls(3);
    expect(calls[2]!.items).toEqual(['d']);
  });

  it('splits a round into calls of at most maxSize (a bigger item alone); a failed call rejects only its items', async () => {
    const { calls, send, untilCalls } = recorder();
    const rounds = new CommitRounds<Item, string>(send, 3);
    const results = [
      rounds.add({ name: 'a', size: 2 }),
      rounds.add({ name: 'b', size: 1 }),
      rounds.add({ name: 'big', size: 5 }),
      rounds.add({ name: 'c', size: 1 }),
    ].map((p) =>
      p.then(
        (v) => v,
        (err: Error) => err.message,
      ),
    );
    await untilCalls(3);
    expect(calls.map((c) => c.items)).toEqual([['a', 'b'], ['big'], ['c']]);
    calls[0]!.answer();
    calls[1]!.answer(new Error('link lost'));
    calls[2]!.answer();
    expect(await Promise.all(results)).toEqual(['a!', 'b!', 'link lost', 'c!']);
  });
});
