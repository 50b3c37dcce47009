import type { Entry } from '../../state/types.js';
import { nickSegment } from '../nick-color.js';
import { findLinks, linkSegments } from './links.js';
import { cellWidth, wrapCells } from './wrap.js';

/** A styled run of text within a line. */
export interface Segment {
  text: string;
  color?: string;
  dim?: boolean;
  bold?: boolean;
  /** Swapped foreground and background (the sidebar's current conversation). */
  inverse?: boolean;
  /** An http(s) address (checked by safeHref): drawn as an OSC 8 hyperlink. */
  link?: string;
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
const cache = new WeakMap<Entry, { width: number; bare: boolean; lines: Line[] }>();

/**
 * The rows `entry` takes at `width` cells. `bare` (Alt+L): continuation rows start at the left
 * edge instead of hanging under the text, so a selection copies only the text.
 */
export function entryLines(entry: Entry, width: number, bare = false): Line[] {
  const hit = cache.get(entry);
  if (hit && hit.width === width && hit.bare === bare) return hit.lines;
  const lines = build(entry, width, bare);
  cache.set(entry, { width, bare, lines });
  return lines;
}

/** How many rows `entry` takes at `width` cells. */
export function entryHeight(entry: Entry, width: number, bare = false): number {
  return entryLines(entry, width, bare).length;
}

/** The body rows as segments, URLs (found in the whole text, so across rows) as links. */
function bodyRows(text: string, rows: string[], body: Segment): Segment[][] {
  const links = text.includes('://') ? findLinks(text) : [];
  if (links.length === 0) return rows.map((row) => [{ ...body, text: row }]);
  let pos = 0;
  return rows.map((row) => {
    const at = text.indexOf(row, pos);
    if (at === -1) return [{ ...body, text: row }];
    pos = at + row.length;
    return linkSegments(row, at, body, links);
  });
}

function build(entry: Entry, width: number, bare: boolean): Line[] {
  const time: Segment = { text: `${formatTime(entry.ts)} `, dim: true };
  let head: Segment[];
  let body: Segment;
  let text = entry.text;
  if (entry.kind === 'message' && entry.msgKind === 'topic') {
    head = [time, { text: '-- ', dim: true }, nickSegment(entry.nick, entry.self)];
    text = entry.text === '' ? ' cleared the topic' : ` set the topic: ${entry.text}`;
    body = { text: '', dim: true };
  } else if (entry.kind === 'message') {
    head =
      entry.msgKind === 'action'
        ? [time, { text: '* ', dim: true }, nickSegment(entry.nick, entry.self), { text: ' ' }]
        : [time, { text: '<', dim: true }, nickSegment(entry.nick, entry.self), { text: '> ', dim: true }];
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
      ...bodyRows(text, wrapCells(text, width), body).map((segments, i) => ({
        key: `${entry.key}:${i}`,
        segments,
      })),
    ];
  }
  // Continuation rows hang under the text, unless the nick is so long that would squeeze it.
  const indent = bare ? 0 : headWidth <= width / 2 ? headWidth : Math.min(TIME_WIDTH, width - 1);
  const pad: Segment[] = indent > 0 ? [{ text: ' '.repeat(indent) }] : [];
  const rows = wrapCells(text, width - headWidth, width - indent);
  return bodyRows(text, rows, body).map((segments, i) => ({
    key: `${entry.key}:${i}`,
    segments: i === 0 ? [...head, ...segments] : [...pad, ...segments],
  }));
}
