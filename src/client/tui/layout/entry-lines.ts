import type { Entry } from '../../state/types.js';
import { nickSegment } from '../nick-color.js';
import { cellWidth, wrapCells } from './wrap.js';

/** A styled run of text within a line. */
export interface Segment {
  text: string;
  color?: string;
  dim?: boolean;
  bold?: boolean;
}

/** One terminal row of the message pane, already fitted to the width. */
export interface Line {
  key: string;
  segments: readonly Segment[];
}

const TIME_WIDTH = 6; // "12:34 "

/** Local HH:MM. */
export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// Entries never change once made, so their lines are cached per object and width: a re-render
// or a keystroke costs a map lookup per visible entry, not a re-wrap.
const cache = new WeakMap<Entry, { width: number; lines: Line[] }>();

/** The rows `entry` takes at `width` cells. */
export function entryLines(entry: Entry, width: number): Line[] {
  const hit = cache.get(entry);
  if (hit && hit.width === width) return hit.lines;
  const lines = build(entry, width);
  cache.set(entry, { width, lines });
  return lines;
}

/** How many rows `entry` takes at `width` cells. */
export function entryHeight(entry: Entry, width: number): number {
  return entryLines(entry, width).length;
}

function build(entry: Entry, width: number): Line[] {
  const time: Segment = { text: `${formatTime(entry.ts)} `, dim: true };
  let head: Segment[];
  let body: Segment;
  if (entry.kind === 'message') {
    head = [
      time,
      { text: '<', dim: true },
      nickSegment(entry.nick, entry.self),
      { text: '> ', dim: true },
    ];
    body = entry.pending
      ? { text: '', dim: true }
      : entry.mention
        ? { text: '', color: 'yellow', bold: true }
        : { text: '' };
  } else if (entry.tone === 'error') {
    head = [time, { text: '!! ', color: 'red', bold: true }];
    body = { text: '', color: 'red' };
  } else {
    head = [time, { text: '-- ', dim: true }];
    body = { text: '', dim: true };
  }
  const headWidth = head.reduce((n, seg) => n + cellWidth(seg.text), 0);
  if (headWidth >= width) {
    // A pane narrower than the prefix: prefix on its own row (Ink truncates it), text below.
    return [
      { key: `${entry.key}:h`, segments: head },
      ...wrapCells(entry.text, width).map((row, i) => ({
        key: `${entry.key}:${i}`,
        segments: [{ ...body, text: row }],
      })),
    ];
  }
  // Continuation rows hang under the text, unless the nick is so long that would squeeze it.
  const indent = headWidth <= width / 2 ? headWidth : Math.min(TIME_WIDTH, width - 1);
  const pad: Segment = { text: ' '.repeat(indent) };
  return wrapCells(entry.text, width - headWidth, width - indent).map((row, i) => ({
    key: `${entry.key}:${i}`,
    segments: i === 0 ? [...head, { ...body, text: row }] : [pad, { ...body, text: row }],
  }));
}
