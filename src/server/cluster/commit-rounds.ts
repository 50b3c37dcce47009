/** Something a round sends: `size` is what it counts toward a call's cap (its drafts). */
export interface RoundItem {
  readonly size: number;
}

/** How a round sends its items: one call per chunk, resolving with one result per item, in order. */
export type RoundSender<T extends RoundItem, R> = (items: T[]) => Promise<R[]>;

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for a node's rooms: whatever every room of the node asks to commit while a round
 * is in flight (or during this event-loop turn) goes to Redis in the next round, as one script
 * call covering all those rooms (a chunk of at most `maxSize` drafts; a bigger round is several
 * calls sent at once). One round is in flight at a time.
 *
 * Why: each call costs Redis a script run, a socket read and, with `appendfsync always`, often an
 * fsync of its own (about 120 µs of system time and 1.4 ms with Redis's thread blocked on the
 * reference VM), and costs the node a socket write. At 5,000 msgs/s over 100 rooms, a call per
 * room's turn was about 1.5 messages a call. Waiting for the round in flight costs a sender at
 * most one round trip, and Redis would run a call sent meanwhile only after that one anyway.
 *
 * A failed call rejects every item of its chunk with the same error (a lost reply: all of them
 * may have been stored; `client_msg_id` retries settle it), never items of other chunks.
 */
export class CommitRounds<T extends RoundItem, R> {
  private queue: Waiting<T, R>[] = [];
  /** The round in flight: settles (never rejects) once every call of it answered. */
  private inFlight: Promise<void> | undefined;
  private scheduled = false;
  /** Set by {@link timeWith}: rounds go out when {@link sendNow} says, and this asks for that. */
  private request: (() => void) | undefined;

  constructor(
    private readonly send: RoundSender<T, R>,
    private readonly maxSize: number,
  ) {}

  /** Queues `item` for the next round; resolves with its result. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Hands the timing of rounds to the caller (the server's WebSocket flush): a round goes out
   * when {@link sendNow} is called, and `request` is called when one is waiting to go (the first
   * item queued with no round in flight, or a round that ended with items queued behind it).
   * undefined: rounds go at the end of the turn again (and what waits, now).
   */
  timeWith(request: (() => void) | undefined): void {
    this.request = request;
    // Whatever was waiting for the old timing is scheduled by the new one.
    this.scheduled = false;
    this.schedule();
  }

  /** Items waiting for the next round. */
  get queued(): number {
    return this.queue.length;
  }

  /** A round is in flight. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /**
   * Sends the waiting items as a round now, unless one is in flight; resolves once that round
   * (or the one in flight) has answered. Undefined when nothing is waiting or in flight.
   */
  sendNow(): Promise<void> | undefined {
    if (!this.inFlight && this.queue.length > 0) this.round();
    return this.inFlight;
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    if (this.request) return this.request();
    // The end of this turn: every room that commits in it (each drained on a microtask) is in.
    setImmediate(() => {
      // Taken over by sendNow meanwhile (timing handed over and back)?
      if (this.scheduled && !this.inFlight) this.round();
    });
  }

  private round(): void {
    this.scheduled = false;
    const waiting = this.queue;
    this.queue = [];
    const done = Promise.all(chunks(waiting, this.maxSize).map((chunk) => this.call(chunk))).then(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    this.inFlight = done;
  }

  private async call(chunk: Waiting<T, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.send(chunk.map((w) => w.item));
    } catch (err) {
      for (const w of chunk) w.reject(err);
      return;
    }
    chunk.forEach((w, i) => w.resolve(results[i]!));
  }
}

/** Consecutive runs of at most `max` total size (an item bigger than `max` goes alone). */
function chunks<T extends RoundItem, R>(waiting: Waiting<T, R>[], max: number): Waiting<T, R>[][] {
  const out: Waiting<T, R>[][] = [];
  let current: Waiting<T, R>[] = [];
  let size = 0;
  for (const w of waiting) {
    if (current.length > 0 && size + w.item.size > max) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(w);
    size += w.item.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
