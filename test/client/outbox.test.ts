import { describe, expect, it } from 'vitest';
import { MAX_PACE_MS, MIN_PACE_MS, Outbox, type OutboxTimers } from '../../src/client/outbox.js';

/** Timers the test fires by hand: `due()` says what is set, `fire()` runs it. */
function manualTimers() {
  let next: { run: () => void; ms: number; handle: number } | undefined;
  let handles = 0;
  const timers: OutboxTimers = {
    set: (run, ms) => {
      next = { run, ms, handle: ++handles };
      return next.handle;
    },
    clear: (handle) => {
      if (next?.handle === handle) next = undefined;
    },
  };
  return {
    timers,
    due: () => next?.ms,
    fire: () => {
      const t = next;
      next = undefined;
      t?.run();
    },
  };
}

/** An outbox over a link whose joined rooms the test sets, recording what it writes. */
function outbox() {
  const joined = new Set<string>();
  const written: string[] = [];
  const t = manualTimers();
  const box = new Outbox(
    {
      canSendTo: (room) => joined.has(room),
      write: (id, room, text) => written.push(`${id} ${room} ${text}`),
    },
    t.timers,
  );
  return { box, joined, written, ...t };
}

describe('Outbox', () => {
  it('writes a message at once when its room can take it, and keeps it until it is settled', () => {
    const { box, joined, written } = outbox();
    joined.add('lobby');
    box.add('m1', 'lobby', 'hi');
    expect(written).toEqual(['m1 lobby hi']);
    expect(box.has('m1')).toBe(true);
    box.flush();
    expect(written).toHaveLength(1);
    box.settled('m1');
    expect(box.has('m1')).toBe(false);
  });

  it('holds messages for a room not joined yet and writes them in the order typed once it is', () => {
    const { box, joined, written } = outbox();
    joined.add('lobby');
    box.add('a', 'dev', 'one');
    box.add('b', 'lobby', 'other room');
    box.add('c', 'dev', 'two');
    expect(written).toEqual(['b lobby other room']);
    joined.add('dev');
    box.flush();
    expect(written).toEqual(['b lobby other room', 'a dev one', 'c dev two']);
  });

  it('after a new socket writes every unanswered message again, under the same id', () => {
    const { box, joined, written } = outbox();
    joined.add('lobby');
    box.add('a', 'lobby', 'one');
    box.add('b', 'lobby', 'two');
    box.settled('a');
    box.newSocket();
    joined.clear();
    box.flush();
    expect(written).toEqual(['a lobby one', 'b lobby two']);
    joined.add('lobby');
    box.flush();
    expect(written).toEqual(['a lobby one', 'b lobby two', 'b lobby two']);
  });

  it('paces after a rate_limited refusal: one at a time, retry_after_ms apart, until none waits', () => {
    const { box, joined, written, due, fire } = outbox();
    joined.add('lobby');
    for (const id of ['a', 'b', 'c']) box.add(id, 'lobby', id);
    expect(written).toHaveLength(3);
    // b and c were too fast; a got through.
    box.settled('a');
    expect(box.rateLimited('b', 300)).toBe(true);
    expect(box.rateLimited('c', 300)).toBe(true);
    expect(due()).toBe(300);
    box.add('d', 'lobby', 'd');
    box.flush();
    expect(written).toHaveLength(3);
    fire();
    expect(written.at(-1)).toBe('b lobby b');
    expect(due()).toBeUndefined();
    // The next goes only once the one in flight is answered, after the pause.
    box.settled('b');
    expect(due()).toBe(300);
    fire();
    expect(written.at(-1)).toBe('c lobby c');
    box.settled('c');
    fire();
    expect(written.at(-1)).toBe('d lobby d');
    box.settled('d');
    fire();
    // Nothing left: pacing ends and messages go at once again.
    box.add('e', 'lobby', 'e');
    expect(written.at(-1)).toBe('e lobby e');
  });

  it('keeps the pause within bounds and takes a second without retry_after_ms', () => {
    const { box, joined, due } = outbox();
    joined.add('lobby');
    box.add('a', 'lobby', 'a');
    box.rateLimited('a', 1);
    expect(due()).toBe(MIN_PACE_MS);
    box.rateLimited('a', 3_600_000);
    expect(due()).toBe(MAX_PACE_MS);
    box.rateLimited('a', undefined);
    expect(due()).toBe(1_000);
  });

  it('is not fooled by a refusal of a ref that is no message of its own', () => {
    const { box, due } = outbox();
    expect(box.rateLimited('r7', 300)).toBe(false);
    expect(due()).toBeUndefined();
  });

  it('a new socket ends the pacing (a fresh session has a fresh rate limit)', () => {
    const { box, joined, written, due } = outbox();
    joined.add('lobby');
    box.add('a', 'lobby', 'a');
    box.add('b', 'lobby', 'b');
    box.rateLimited('a', 500);
    box.rateLimited('b', 500);
    box.newSocket();
    expect(due()).toBeUndefined();
    box.flush();
    expect(written.slice(-2)).toEqual(['a lobby a', 'b lobby b']);
  });

  it('drops what waited for a room left, and settles what waited for a room refused', () => {
    const { box, joined, written } = outbox();
    box.add('a', 'dev', 'one');
    box.add('b', 'ops', 'two');
    box.add('c', 'lobby', 'three');
    box.forgetRoom('dev');
    box.refuseRoom('ops');
    expect(box.ids()).toEqual(['c']);
    joined.add('dev').add('ops').add('lobby');
    box.flush();
    expect(written).toEqual(['c lobby three']);
  });
});
