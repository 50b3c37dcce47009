import type { ChatMessage } from '../../protocol/events.js';
import type { FeedHandle, FeedNotice, FeedSink } from './engine.js';

/** What a feed reads from the room's stream. */
export interface StreamReader {
  /** Messages with afterSeq < seq <= toSeq (to the end when undefined), ascending, at most `limit`. */
  range(roomId: string, afterSeq: number, toSeq: number | undefined, limit: number): Promise<ChatMessage[]>;
}

/** A batch as the commit script publishes it. */
export interface LiveBatch {
  t: 'batch';
  node: string;
  first: number;
  last: number;
  messages: ChatMessage[];
}

/** Backfill page size (XRANGE COUNT). */
const PAGE = 500;
/** How long a feed waits for a seq this node committed to arrive live before reading the stream. */
export const EXPECT_MS = 250;
/** How soon a feed whose stream read failed tries again. */
const RETRY_MS = 500;

/** Counters a feed keeps (tests, metrics). */
export interface FeedStats {
  /** Times the feed read the stream to fill a gap. */
  backfills: number;
  /** Messages delivered from the stream rather than the channel. */
  backfilled: number;
}

/**
 * One room's delivery on one node: a watermark `delivered` and a single ordered source built
 * from the room's pub/sub channel and its stream. Every step (a live batch, a notice, a
 * catch-up) runs on one promise chain, so the sink is called one step at a time, in order.
 * - a batch starting at delivered+1 is delivered as is;
 * - a batch starting higher first reads the missing seqs from the stream (XRANGE);
 * - a batch (or its part) at or below delivered is dropped (already delivered).
 * A failed stream read (Redis down) drops nothing that matters: the next catch-up (a later
 * batch, a reconnect, an expected seq that did not arrive) reads it all from the stream.
 */
export class RoomFeed implements FeedHandle {
  private chain: Promise<void>;
  private watermark = 0;
  private closed = false;
  private expectTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private expected = 0;
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  /** What this node committed and the feed has not delivered yet, by seq (see {@link ownBatch}). */
  private readonly own = new Map<number, ChatMessage>();
  /** Steps on the chain not yet finished (the start counts as one): 0 means a step may run at once. */
  private pending = 1;
  readonly stats: FeedStats = { backfills: 0, backfilled: 0 };

  constructor(
    readonly roomId: string,
    private readonly sink: FeedSink,
    private readonly reader: StreamReader,
    /** Resolves with the start watermark once the channel subscription is confirmed. */
    start: Promise<number>,
    private readonly onClose: (feed: RoomFeed) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.chain = start.then(
      (seq) => {
        this.watermark = seq;
        this.pending--;
      },
      // The subscription failed (the engine rejects feed() with the cause): nothing to deliver.
      () => {
        this.closed = true;
        this.pending--;
      },
    );
  }

  get delivered(): number {
    return this.watermark;
  }

  /** A live batch from the channel. */
  pushBatch(batch: LiveBatch): void {
    // The everyday case, the next batch with nothing else queued: delivered now, with no promise
    // step (per batch per room, the chain's microtasks were a visible share of a node's CPU).
    if (this.pending === 0 && batch.first <= this.watermark + 1) {
      if (this.closed || batch.last <= this.watermark) return;
      try {
        this.deliverFresh(batch);
      } catch (err) {
        this.failed(err);
      }
      return;
    }
    this.step(async () => {
      if (batch.last <= this.watermark) return;
      if (batch.first > this.watermark + 1) await this.catchUp(batch.first - 1);
      this.deliverFresh(batch);
    });
  }

  /** Delivers the part of a batch above the watermark, if it starts right after it. */
  private deliverFresh(batch: LiveBatch): void {
    const fresh =
      batch.first > this.watermark ? batch.messages : batch.messages.filter((m) => m.seq > this.watermark);
    // The catch-up may have stopped short (Redis down): never deliver past a hole.
    if (fresh.length === 0 || fresh[0]!.seq !== this.watermark + 1) return;
    this.deliver(fresh, batch.node);
  }

  /** A notice from the channel. */
  pushNotice(notice: FeedNotice): void {
    this.step(() => {
      this.sink.notice?.(notice);
    });
  }

  /** Reads everything after the watermark from the stream (after a reconnect, or a lost batch). */
  catchUpNow(): void {
    this.step(() => this.catchUp(undefined));
  }

  /** After a resubscription: the sink re-reads what lost notices carried (in order with the rest). */
  resync(): void {
    this.step(() => {
      this.sink.resync?.();
    });
  }

  /**
   * This node committed `messages` (ascending): kept until delivered, so that their batch coming
   * back on the channel need not be parsed ({@link ownBatch}); if the channel has not brought
   * them within EXPECT_MS, the feed reads the stream.
   */
  expect(messages: readonly ChatMessage[]): void {
    const seq = messages[messages.length - 1]?.seq ?? 0;
    if (seq <= this.watermark || this.closed) return;
    for (const m of messages) if (m.seq > this.watermark) this.own.set(m.seq, m);
    this.expected = Math.max(this.expected, seq);
    if (this.expectTimer) return;
    this.expectTimer = setTimeout(() => {
      this.expectTimer = undefined;
      if (this.watermark < this.expected) this.catchUpNow();
    }, EXPECT_MS);
    this.expectTimer.unref();
  }

  /**
   * The batch first..last that `node` (this node) published, built from what it committed, or
   * undefined when the feed does not hold every message of it (the batch is then parsed).
   */
  ownBatch(node: string, first: number, last: number): LiveBatch | undefined {
    if (!(first >= 1 && last >= first && last - first < this.own.size + 1)) return undefined;
    const messages: ChatMessage[] = [];
    for (let seq = first; seq <= last; seq++) {
      const m = this.own.get(seq);
      if (!m) return undefined;
      messages.push(m);
    }
    for (let seq = first; seq <= last; seq++) this.own.delete(seq);
    return { t: 'batch', node, first, last, messages };
  }

  reached(seq: number): Promise<void> {
    if (this.watermark >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.own.clear();
    if (this.expectTimer) clearTimeout(this.expectTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.onClose(this);
  }

  private step(fn: () => void | Promise<void>): void {
    this.pending++;
    this.chain = this.chain
      .then(() => (this.closed ? undefined : fn()))
      .catch((err: unknown) => this.failed(err))
      .finally(() => {
        this.pending--;
      });
  }

  private failed(err: unknown): void {
    this.onError(err);
    // A stream read failed (Redis down or slow): try again soon; a reconnect also triggers one.
    if (!this.closed && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.catchUpNow();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** Reads the stream after the watermark up to `to` (the end when undefined), page by page. */
  private async catchUp(to: number | undefined): Promise<void> {
    this.stats.backfills++;
    for (;;) {
      if (this.closed || (to !== undefined && this.watermark >= to)) return;
      const page = await this.reader.range(this.roomId, this.watermark, to, PAGE);
      const first = page[0];
      if (!first) {
        // Nothing kept up to `to`: retention (or a replaced history) took it.
        if (to !== undefined) this.skip(to);
        return;
      }
      if (first.seq > this.watermark + 1) this.skip(first.seq - 1);
      this.stats.backfilled += page.length;
      this.deliver(page, undefined);
      if (page.length < PAGE) return;
    }
  }

  private skip(to: number): void {
    this.sink.gap?.(this.watermark, to);
    this.advance(to);
  }

  private deliver(messages: ChatMessage[], node: string | undefined): void {
    this.sink.messages(messages, node);
    this.advance(messages[messages.length - 1]!.seq);
  }

  private advance(seq: number): void {
    this.watermark = seq;
    if (this.own.size > 0) for (const s of this.own.keys()) if (s <= seq) this.own.delete(s);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.seq <= seq) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}
