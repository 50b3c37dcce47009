import type { Entry } from '../../state/types.js';
import { entryLines, type Line } from './entry-lines.js';

/** What the pane shows besides the entries themselves. */
export interface ViewOptions {
  /** Show the joins and leaves the smart filter hides (Alt+=). */
  showQuiet?: boolean;
  /** The bare view (Alt+L): no hanging indent, so text copies cleanly. */
  bare?: boolean;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `Tuesday 24 November 2026`, in local time. */
export function formatDay(ts: number): string {
  const d = new Date(ts);
  return `${DAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

const days = new WeakMap<Entry, number>();

/**
 * A number that differs between two local calendar days. Kept per entry: local-time fields cost
 * a time-zone lookup each, and every visible entry (and the one above it) asks on every frame.
 */
function dayOf(entry: Entry): number {
  let day = days.get(entry);
  if (day === undefined) {
    const d = new Date(entry.ts);
    day = d.getFullYear() * 400 + d.getMonth() * 32 + d.getDate();
    days.set(entry, day);
  }
  return day;
}

const cache = new WeakMap<Entry, { variant: string; lines: readonly Line[] }>();

/**
 * The rows entry `i` takes in the pane: a `-- Tuesday 24 November 2026 --` line when its local
 * day differs from the entry before it (and above the first one, so history says when it is
 * from), the `-- unread --` line above the first entry that arrived while you were elsewhere,
 * then the entry itself, unless it is hidden (ignored nick) or quiet (smart filter) and quiet
 * ones are not shown. Cached per entry, so a keystroke costs a lookup per visible entry.
 */
export function decoratedLines(
  entries: readonly Entry[],
  i: number,
  width: number,
  unreadFrom: string | null,
  options: ViewOptions,
): readonly Line[] {
  const entry = entries[i]!;
  const before = entries[i - 1];
  const day = before === undefined || dayOf(before) !== dayOf(entry);
  const marker = unreadFrom !== null && entry.key === unreadFrom;
  const shown = !entry.hidden && (entry.kind !== 'notice' || !entry.quiet || options.showQuiet === true);
  const variant = `${width}|${day ? 'd' : ''}${marker ? 'u' : ''}${shown ? 's' : ''}${options.bare ? 'b' : ''}`;
  const hit = cache.get(entry);
  if (hit && hit.variant === variant) return hit.lines;
  const own = shown ? entryLines(entry, width, options.bare) : [];
  let lines: readonly Line[] = own;
  if (day || marker) {
    const extra: Line[] = [];
    if (day)
      extra.push({
        key: `${entry.key}:day`,
        segments: [{ text: `-- ${formatDay(entry.ts)} --`, dim: true }],
      });
    if (marker)
      extra.push({
        key: `${entry.key}:unread`,
        segments: [{ text: '-- unread --', color: 'blue', bold: true }],
      });
    lines = [...extra, ...own];
  }
  cache.set(entry, { variant, lines });
  return lines;
}
