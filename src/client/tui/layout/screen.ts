import { cellWidth, hardWrap, splitGraphemes } from './wrap.js';

/** How the terminal is divided. */
export interface ScreenLayout {
  columns: number;
  /** Rows Ink draws: all of the terminal's. */
  rows: number;
  /** 0 when the terminal is too narrow for a sidebar. */
  sidebarWidth: number;
  paneWidth: number;
  paneHeight: number;
  inputRows: number;
  /** 1 when the topic line is drawn at the top (the current room has a topic), else 0. */
  topicRows: number;
  /** Columns of the nick list on the right, its border included; 0 when it is not drawn. */
  nicklistWidth: number;
}

/** The input line grows with Alt+Enter newlines up to this many rows, then scrolls. */
export const MAX_INPUT_ROWS = 5;

/** The nick list is drawn only from this width on: below, the messages need the room. */
export const NICKLIST_MIN_COLUMNS = 120;

/** The nick list's columns: its border, a space, the `@`/`+` and a nick cut to 13 cells. */
export const NICKLIST_WIDTH = 16;

/** What is on screen besides the pane, the status bar and the input line. */
export interface LayoutParts {
  /** The bare view (Alt+L): no sidebar, no nick list. */
  bare?: boolean;
  /** The current room has a topic: a line at the top shows it. */
  topic?: boolean;
  /** The nick list is on and the current conversation is a room. */
  nicklist?: boolean;
}

/**
 * Splits the screen: an optional topic line over sidebar | message pane | nick list, over a
 * status bar and the input line (no sidebar or nick list in the bare view). Every row is
 * used: the FrameWriter addresses rows absolutely, so a frame as tall as the terminal neither
 * scrolls nor forces a full redraw.
 */
export function screenLayout(
  columns: number,
  terminalRows: number,
  inputRows: number,
  parts: LayoutParts = {},
): ScreenLayout {
  const { bare = false } = parts;
  const rows = Math.max(3, terminalRows);
  // The bare view (Alt+L) has no sidebar, so a selection across the pane takes only text.
  const sidebarWidth = bare || columns < 50 ? 0 : Math.min(26, Math.max(14, Math.round(columns * 0.18)));
  const nicklistWidth = !bare && parts.nicklist && columns >= NICKLIST_MIN_COLUMNS ? NICKLIST_WIDTH : 0;
  // The sidebar's right border takes a column, the pane's left padding another.
  const paneWidth = Math.max(1, columns - (sidebarWidth > 0 ? sidebarWidth + 2 : 0) - nicklistWidth);
  const input = Math.min(MAX_INPUT_ROWS, Math.max(1, inputRows));
  // A topic line only when there is room for a pane under it.
  const topicRows = parts.topic && rows - 1 - input >= 4 ? 1 : 0;
  const paneHeight = Math.max(1, rows - 1 - input - topicRows);
  return { columns, rows, sidebarWidth, paneWidth, paneHeight, inputRows: input, topicRows, nicklistWidth };
}

/** One row of the input line: the text before the cursor, the cursor's character, the rest. */
export interface InputRow {
  before: string;
  /** The character under the cursor (a space at the end of the line); null on other rows. */
  at: string | null;
  after: string;
}

/**
 * The input line as rows of at most `width` cells, keeping the cursor's row in view (at most
 * {@link MAX_INPUT_ROWS} rows). `mask` hides everything from that index on (passwords).
 */
export function inputRows(text: string, cursor: number, width: number, mask?: number): InputRow[] {
  const shown = mask === undefined ? text : text.slice(0, mask) + '*'.repeat([...text.slice(mask)].length);
  // Masking keeps the length in code points, so map the cursor too.
  const cursorShown =
    mask === undefined || cursor <= mask ? cursor : mask + [...text.slice(mask, cursor)].length;
  // Leave a cell for the cursor block at the end of a full row.
  const rows = hardWrap(shown, Math.max(1, width - 1));
  let cursorRow = rows.findIndex(
    (r, i) =>
      cursorShown >= r.start &&
      (cursorShown < r.end ||
        (cursorShown === r.end && (i === rows.length - 1 || rows[i + 1]!.start > r.end))),
  );
  if (cursorRow === -1) cursorRow = rows.length - 1;
  const first = Math.max(0, Math.min(cursorRow - MAX_INPUT_ROWS + 1, rows.length - MAX_INPUT_ROWS));
  return rows.slice(first, first + MAX_INPUT_ROWS).map((r, i) => {
    const row = shown.slice(r.start, r.end);
    if (first + i !== cursorRow) return { before: row, at: null, after: '' };
    const offset = cursorShown - r.start;
    const rest = row.slice(offset);
    const at = rest === '' ? ' ' : (splitGraphemes(rest)[0] ?? ' ');
    return { before: row.slice(0, offset), at, after: rest.slice(at === ' ' && rest === '' ? 0 : at.length) };
  });
}

/** Pads or cuts `text` to exactly `width` cells (cuts never split a wide character). */
export function fitCells(text: string, width: number): string {
  let out = '';
  let used = 0;
  for (const ch of splitGraphemes(text)) {
    const w = cellWidth(ch);
    if (used + w > width) break;
    out += ch;
    used += w;
  }
  return out + ' '.repeat(Math.max(0, width - used));
}
