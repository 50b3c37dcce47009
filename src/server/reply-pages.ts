import type { ChatMessage } from '../protocol/events.js';
import type { Store } from './store/store-types.js';

/** Most messages in one replay page (a `history` event answering `join {since_seq}`). */
export const REPLAY_PAGE = 500;

/** Bytes one message adds to a `history` event's JSON (its object and the comma). */
function messageBytes(m: ChatMessage): number {
  return Buffer.byteLength(JSON.stringify(m)) + 1;
}

/**
 * The newest messages of an ascending list that fit in `budget` bytes, still ascending. At least
 * one when the list is not empty: a single message is bounded by the message length limit.
 * A `history` page keeps its newest end, since paging goes backwards with `before_seq`.
 */
export function newestWithin(messages: ChatMessage[], budget: number): ChatMessage[] {
  let bytes = 0;
  let start = messages.length;
  while (start > 0) {
    bytes += messageBytes(messages[start - 1]!);
    if (bytes > budget && start < messages.length) break;
    start--;
  }
  return start === 0 ? messages : messages.slice(start);
}

/** The oldest messages of an ascending list that fit in `budget` bytes (at least one). */
export function oldestWithin(messages: ChatMessage[], budget: number): ChatMessage[] {
  let bytes = 0;
  let end = 0;
  while (end < messages.length) {
    bytes += messageBytes(messages[end]!);
    if (bytes > budget && end > 0) break;
    end++;
  }
  return end === messages.length ? messages : messages.slice(0, end);
}

/** One page of a since_seq replay. */
export interface ReplayPage {
  /** Ascending, all with seq > the cursor it was read after. */
  messages: ChatMessage[];
  /** Messages up to `head` remain after this page. */
  more: boolean;
  /**
   * Retention dropped messages the replay owed: the page does not start right after the cursor,
   * or nothing is kept between the cursor and `head`. Also a cursor past `head`: the client's
   * seq comes from a history this server no longer has (a `--memory` restart, a new data dir).
   */
  gap: boolean;
}

/**
 * Reads the replay page after `cursor`: at most {@link REPLAY_PAGE} messages and `budget` bytes.
 * `head` is the room's seq, every message up to which is committed (the room calls this from its
 * mailbox, where no append is in flight).
 */
export async function readReplayPage(
  store: Pick<Store, 'since'>,
  roomId: string,
  cursor: number,
  head: number,
  budget: number,
): Promise<ReplayPage> {
  // Past `head` is not the replay's (in cluster mode the log may be ahead of this node's
  // delivery; those come live); on one node nothing is.
  const read = (await store.since(roomId, cursor, REPLAY_PAGE)).filter((m) => m.seq <= head);
  const messages = oldestWithin(read, budget);
  const first = messages[0];
  const last = messages[messages.length - 1];
  return {
    messages,
    more: last !== undefined && last.seq < head,
    gap: cursor > head || (first !== undefined ? first.seq > cursor + 1 : cursor < head),
  };
}
