import { FlushPacer, type PacerOptions } from './flush-pacer.js';

/**
 * Runs of the first step per flush, at most: the commit, then the appends its releases made
 * (rooms take the messages queued behind a committed batch at once). More would let a steady
 * stream of input (each step is one event-loop turn, with its reads) hold the writes back.
 */
const FIRST_STEPS = 2;

/**
 * The longest a flush waits for what its first step sent away (a cluster node's commit round, a
 * network round trip to Redis with its fsync): past it the sockets are written with what is
 * there, and the round's deliveries leave in the next flush.
 */
export const FIRST_STEP_WAIT_MS = 10;

/**
 * What a first step did: `false` nothing for this flush; `true` it settled promises whose writes
 * belong in it; a promise: it sent work away whose answer belongs in it (waited for, at most
 * {@link FIRST_STEP_WAIT_MS}, before the step runs again and the sockets are written).
 */
export type FirstStepResult = boolean | Promise<unknown>;

/** A connection with frames queued that it can write in one go. */
export interface Flushable {
  /** Writes what is queued, in one write. */
  flush(): void;
}

/** Settings of a {@link WriteCoalescer}: how its flushes are paced (see {@link FlushPacer}). */
export type CoalescerOptions = PacerOptions & {
  /**
   * The clock (ms) the pacer reads; `performance.now` unless a test needs flushes whose length
   * does not depend on how busy the machine is.
   */
  now?: () => number;
};

/**
 * Batches socket writes: connections that queued frames are flushed together, each with one
 * write, at the end of the event-loop turn (setImmediate), or later when writing has been taking
 * more than its share of the event loop.
 *
 * The write syscall is most of the cost of a delivery on a loopback or LAN socket (about 5 µs
 * each on the reference VM), and at everyday rates each message of a big room arrives in its own
 * turn: flushing every turn would cost one write per member per message. So a {@link FlushPacer}
 * decides when the next flush begins from how long the last ones took: a quiet server (and the
 * first event after a quiet spell) flushes at the end of the turn; under load the flushes are
 * spaced so that writing takes about `writeShare` of the time, never delaying an event by more
 * than `maxDelayMs`, and each write then carries several events.
 *
 * A flush may open with a first step ({@link lead}): the server's store commit. What that
 * commit releases (acknowledgements, deliveries) is queued by the room actors on the microtasks
 * that follow it, so the sockets are written once those have run, in the same flush:
 * committing on a timer of its own, a commit that landed just after a flush made its deliveries
 * wait for the next one (about one flush interval more latency). On those microtasks a room also
 * appends the messages that queued behind its committed batch, so the step runs a second time
 * before the write: they arrived before this flush and leave in it. All of it within the one
 * event-loop callback, with no turn (and no socket reads) in between.
 *
 * A cluster node's first step sends its commit round to Redis instead and returns the round's
 * promise: the flush then waits for the answer (the event loop runs meanwhile, and marks join this
 * flush), and runs the step again a turn after it (the sub link's batch, read in the same poll,
 * is routed then), so a round's deliveries leave in the flush that sent it.
 */
export class WriteCoalescer<T extends Flushable> {
  private readonly dirty = new Set<T>();
  private scheduled = false;
  private readonly pacer: FlushPacer;
  private readonly now: () => number;
  private first: ((step: number) => FirstStepResult) | undefined;
  /** {@link wake} was called since the last first step ran. */
  private woken = false;
  /** First steps run in the current flush. */
  private steps = 0;

  constructor(options: CoalescerOptions = {}) {
    this.pacer = new FlushPacer(options);
    this.now = options.now ?? (() => performance.now());
  }

  /** Queues `conn` for the next flush. Call when its queue goes from empty to non-empty. */
  mark(conn: T): void {
    this.dirty.add(conn);
    this.schedule();
  }

  /**
   * Sets the step that opens every flush (undefined: none). It returns true when it settled
   * promises whose writes belong in this flush; the sockets are then written once the
   * microtasks those promises started have run and queued their frames. It returns a promise
   * when it sent work away whose answer belongs in this flush (see {@link FirstStepResult}).
   * It runs up to twice a flush and is told which run it is (`step`: 1, then 2).
   */
  lead(first: ((step: number) => FirstStepResult) | undefined): void {
    // One first step: a second lead (a SQLite store and a cluster engine both) would drop one.
    if (first && this.first) throw new Error('this coalescer already has a first step');
    this.first = first;
  }

  /** Asks for a flush although no connection may be marked: the first step has work. */
  wake(): void {
    this.woken = true;
    this.schedule();
  }

  /** Drops `conn` from the next flush (it flushed itself, e.g. before closing). */
  forget(conn: T): void {
    this.dirty.delete(conn);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.pacer.delay(this.now());
    // Timers have millisecond resolution; a shorter wait is the end of this turn.
    if (wait < 1) setImmediate(this.run);
    else setTimeout(this.run, wait);
  }

  private readonly run = (): void => {
    this.steps = 0;
    this.step();
  };

  private readonly step = (): void => {
    this.woken = false;
    this.steps++;
    let result: FirstStepResult = false;
    try {
      result = this.first?.(this.steps) ?? false;
    } finally {
      // Still `scheduled` until the write: marks made meanwhile join this flush. A room that had
      // an append in this commit took the messages queued behind it on the microtasks that
      // follow and appended them: a second step commits those too, or they would wait for the
      // next flush although they arrived before this one.
      const next = this.steps < FIRST_STEPS ? this.step : this.write;
      if (result === false) this.write();
      else if (result === true || next === this.write) afterMicrotasks(next);
      else this.waitFor(result, next);
    }
  };

  /** Runs `next` a turn after `answer` settled, or after FIRST_STEP_WAIT_MS, whichever is first. */
  private waitFor(answer: Promise<unknown>, next: () => void): void {
    let done = false;
    const go = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // A turn later: what came with the answer on another socket (a published batch) is read.
      setImmediate(next);
    };
    const timer = setTimeout(go, FIRST_STEP_WAIT_MS);
    answer.then(go, go);
  }

  private readonly write = (): void => {
    this.scheduled = false;
    const started = this.now();
    for (const conn of this.dirty) conn.flush();
    this.dirty.clear();
    // Only the writes are paced, as before the first step existed: it is not what the share is of.
    this.pacer.flushed(started, this.now());
    // Work for the first step arrived between it and the write: it opens the next flush.
    if (this.woken) this.schedule();
  };
}

/**
 * Runs `fn` once every microtask queued so far, and every one those queue in turn, has run (the
 * chains of awaits a commit's promises start), still before the event loop goes on: a microtask
 * queued now puts `fn` on the next-tick queue, which Node runs only after V8 drained the
 * microtask queue.
 */
function afterMicrotasks(fn: () => void): void {
  queueMicrotask(() => process.nextTick(fn));
}
