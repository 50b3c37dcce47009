import type { Conversation, Entry, PendingMessage, ScrollAnchor } from '../../state/types.js';
import { decoratedLines, type ViewOptions } from './decorations.js';
import type { Line } from './entry-lines.js';

/** What the message pane shows: exactly the rows that fit, and whether the top is among them. */
export interface View {
  lines: readonly Line[];
  /** The conversation's first row (its header) is visible: time to load older history. */
  atTop: boolean;
}

/**
 * The rows of a conversation, addressed by item index: -1 is the header row, 0..n-1 the
 * entries. Nothing here walks more than the rows it needs, so a 10,000-message room costs the
 * same per keystroke as a 10-message one (plus O(rows scrolled) when scrolled up).
 */
interface Items {
  n: number;
  lines(i: number): readonly Line[];
}

const pendingEntries = new WeakMap<PendingMessage, Entry>();

function pendingEntry(p: PendingMessage, nick: string): Entry {
  let e = pendingEntries.get(p);
  if (!e) {
    e = {
      kind: 'message',
      key: `p${p.clientMsgId}`,
      seq: null,
      ts: p.ts,
      nick,
      text: p.text,
      self: true,
      mention: false,
      pending: true,
      ...(p.action ? { msgKind: 'action' as const } : {}),
    };
    pendingEntries.set(p, e);
  }
  return e;
}

function headerText(conv: Conversation): string {
  if (conv.loadingOlder) return 'loading older messages...';
  if (conv.hasMore) return 'older messages: PgUp';
  if (conv.id === '*') return 'not in a room yet: /join <room>, /help for the commands';
  if (conv.joinRequest === 'pending') return `joining #${conv.id}...`;
  if (conv.joinRequest === 'failed') return `not in #${conv.id}: /join ${conv.id} tries again`;
  return conv.kind === 'room' ? `start of #${conv.id}` : `start of your conversation with ${conv.name}`;
}

function items(
  conv: Conversation,
  width: number,
  nick: string,
  withPending: boolean,
  options: ViewOptions,
): Items {
  const entries =
    withPending && conv.pending.length > 0
      ? [...conv.entries, ...conv.pending.map((p) => pendingEntry(p, nick))]
      : conv.entries;
  const header: Line[] = [
    { key: `${conv.id}:header`, segments: [{ text: `-- ${headerText(conv)} --`, dim: true }] },
  ];
  return {
    n: entries.length,
    lines: (i) => (i < 0 ? header : decoratedLines(entries, i, width, conv.unreadFrom, options)),
  };
}

/** The rows to show for `conv` in a pane of `width` x `height` cells. */
export function visibleLines(
  conv: Conversation,
  width: number,
  height: number,
  nick: string,
  options: ViewOptions = {},
): View {
  const list = items(conv, width, nick, conv.scroll === null, options);
  if (height <= 0) return { lines: [], atTop: false };
  const anchor = conv.scroll ?? { below: 0, skip: 0 };
  const chunks: (readonly Line[])[] = [];
  let count = 0;
  let i = Math.max(-1, list.n - 1 - anchor.below);
  let first = true;
  while (i >= -1 && count < height) {
    let rows = list.lines(i);
    if (first && i === list.n - 1 - anchor.below)
      rows = rows.slice(0, Math.max(0, rows.length - anchor.skip));
    first = false;
    chunks.push(rows);
    count += rows.length;
    i--;
  }
  if (count < height && conv.scroll !== null) return fromTop(list, height);
  const lines = chunks.reverse().flat().slice(-height);
  return { lines, atTop: i < -1 && lines[0]?.key === `${conv.id}:header` };
}

function fromTop(list: Items, height: number): View {
  const lines: Line[] = [];
  for (let i = -1; i < list.n && lines.length < height; i++) lines.push(...list.lines(i));
  return { lines: lines.slice(0, height), atTop: true };
}

/** Where a scroll ends up, and how many rows it really moved (less than asked at either end). */
export interface ScrollStep {
  anchor: ScrollAnchor | null;
  /** Rows moved up (negative: down); what the anchors' {@link scrollOffset}s differ by. */
  moved: number;
}

/**
 * Where the view ends up after scrolling `delta` rows (positive: up, towards older messages),
 * clamped so the pane never scrolls past the header nor shows less than a full page; a null
 * anchor is the live bottom. It walks from where the view is, so a page costs a page of rows
 * however deep in a long history it is (only a scroll that reaches the top counts from the
 * bottom, to say how far it went).
 */
export function scrollStep(
  conv: Conversation,
  width: number,
  height: number,
  delta: number,
  nick: string,
  options: ViewOptions = {},
): ScrollStep {
  const list = items(conv, width, nick, false, options);
  const count = (i: number) => list.lines(i).length;
  const from = conv.scroll;
  // The bottom row of the view: `rest` rows of item `i` are hidden under it.
  let i = from ? Math.max(-1, list.n - 1 - from.below) : list.n - 1;
  let rest = (from?.skip ?? 0) + delta;
  let moved = delta;
  while (rest < 0) {
    if (i >= list.n - 1) {
      // Past the live bottom: moved only as far as it.
      moved -= rest;
      rest = 0;
      i = list.n - 1;
      break;
    }
    i++;
    rest += count(i);
  }
  while (i >= -1 && rest >= count(i)) {
    rest -= count(i);
    i--;
  }
  const atTop = (): ScrollStep => {
    const anchor = topAnchor(list, height);
    return { anchor, moved: offsetOf(list, anchor) - offsetOf(list, from) };
  };
  if (i < -1) return atTop();
  if (rest === 0) {
    let j = i + 1;
    while (j < list.n && count(j) === 0) j++;
    if (j === list.n) return { anchor: null, moved };
  }
  let above = count(i) - rest;
  for (let j = i - 1; above < height && j >= -1; j--) above += count(j);
  if (above < height) return atTop();
  return { anchor: { below: list.n - 1 - i, skip: rest }, moved };
}

/** {@link scrollStep}'s anchor: where the view ends up after scrolling `delta` rows. */
export function scrollBy(
  conv: Conversation,
  width: number,
  height: number,
  delta: number,
  nick: string,
  options: ViewOptions = {},
): ScrollAnchor | null {
  return scrollStep(conv, width, height, delta, nick, options).anchor;
}

function offsetOf(list: Items, anchor: ScrollAnchor | null): number {
  if (!anchor) return 0;
  let offset = anchor.skip;
  for (let j = Math.max(0, list.n - anchor.below); j < list.n; j++) offset += list.lines(j).length;
  return offset;
}

/**
 * How many rows `anchor` is above the live bottom (0 for null), the unit `scrollBy` moves in:
 * the difference between two of them is how far a scroll really went.
 */
export function scrollOffset(
  conv: Conversation,
  width: number,
  anchor: ScrollAnchor | null,
  nick: string,
  options: ViewOptions = {},
): number {
  return offsetOf(items(conv, width, nick, false, options), anchor);
}

/** The anchor that puts the header on the pane's first row, or null when everything fits. */
function topAnchor(list: Items, height: number): ScrollAnchor | null {
  let rows = 0;
  for (let i = -1; i < list.n; i++) {
    const c = list.lines(i).length;
    if (rows + c >= height) {
      const skip = rows + c - height;
      return i === list.n - 1 && skip === 0 ? null : { below: list.n - 1 - i, skip };
    }
    rows += c;
  }
  return null;
}
