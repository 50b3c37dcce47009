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
}

/** The input line grows with Alt+Enter newlines up to this many rows, then scrolls. */
export const MAX_INPUT_ROWS = 5;

/**
 * Splits the screen: sidebar | message pane over a status bar and the input line (no sidebar in
 * the bare view). Every row is
 * used: the FrameWriter addresses rows absolutely, so a frame as tall as the terminal neither
 * scrolls nor forces a full redraw.
 */
export function screenLayout(
  columns: number,
  terminalRows: number,
  inputRows: number,
  bare = false,
): ScreenLayout {
  const rows = Math.max(3, terminalRows);
  // The bare view (Alt+L) has no sidebar, so a selection across the pane takes only text.
  const sidebarWidth = bare || columns < 50 ? 0 : Math.min(26, Math.max(14, Math.round(columns * 0.18)));
  // The sidebar's right border takes a column, the pane's left padding another.
  const paneWidth = Math.max(1, columns - (sidebarWidth > 0 ? sidebarWidth + 2 : 0));
  const input = Math.min(MAX_INPUT_ROWS, Math.max(1, inputRows));
  const paneHeight = Math.max(1, rows - 1 - input);
  return { columns, rows, sidebarWidth, paneWidth, paneHeight, inputRows: input };
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
