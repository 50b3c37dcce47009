import stringWidth from 'string-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Terminal cells `text` takes: CJK and most emoji take two, combining marks none.
 *
 * Terminals disagree about emoji sequences: string-width counts a skin-toned 👍🏽 as one 2-cell
 * glyph (kitty, iTerm2 draw it so), but tmux and VTE draw the base and the modifier as 2 + 2
 * cells. Counting too few cells is what breaks a screen (the row runs over the border beside it),
 * counting too many only leaves a gap, so a cluster of several code points takes the larger of
 * the two counts.
 */
export function cellWidth(text: string): number {
  // Most chat text is ASCII; string-width is far slower than .length, so only pay for it when needed.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let cells = 0;
  for (const { segment } of graphemes.segment(text)) cells += clusterWidth(segment);
  return cells;
}

/** Cells of one grapheme cluster: see {@link cellWidth}. */
function clusterWidth(cluster: string): number {
  const whole = stringWidth(cluster);
  if (cluster.length <= 2 && [...cluster].length === 1) return whole;
  let parts = 0;
  for (const codePoint of cluster) parts += stringWidth(codePoint);
  return Math.max(whole, parts);
}

/** Splits `text` into grapheme clusters (user-perceived characters). */
export function splitGraphemes(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return [...text];
  return Array.from(graphemes.segment(text), (s) => s.segment);
}

/**
 * Word-wraps `text` to lines of at most `firstWidth` cells (the first line) and `restWidth`
 * cells (the others), measuring by terminal cells. Words longer than a line are broken between
 * graphemes, never inside one; `\n` starts a new line. Spaces at a wrap point are dropped.
 */
export function wrapCells(text: string, firstWidth: number, restWidth: number = firstWidth): string[] {
  const out: string[] = [];
  const limit = () => Math.max(1, out.length === 0 ? firstWidth : restWidth);
  for (const paragraph of text.split('\n')) {
    let line = '';
    let used = 0;
    const flush = () => {
      out.push(line.trimEnd());
      line = '';
      used = 0;
    };
    for (const token of paragraph.match(/\S+|\s+/g) ?? []) {
      const w = cellWidth(token);
      if (/^\s/.test(token)) {
        if (used + w <= limit()) {
          line += token;
          used += w;
        } else if (used > 0) {
          flush();
        }
        continue;
      }
      if (used + w <= limit()) {
        line += token;
        used += w;
        continue;
      }
      if (used > 0 && w <= Math.max(1, restWidth)) {
        flush();
        line = token;
        used = w;
        continue;
      }
      // Longer than a whole line: break it between graphemes.
      for (const g of splitGraphemes(token)) {
        const gw = cellWidth(g);
        if (used + gw > limit() && used > 0) flush();
        line += g;
        used += gw;
      }
    }
    flush();
  }
  return out;
}

/** One visual row of hard-wrapped text: `text.slice(start, end)`. */
export interface Row {
  start: number;
  end: number;
}

/**
 * Breaks `text` into rows of at most `width` cells without dropping any character (unlike
 * {@link wrapCells}), so a cursor index maps to exactly one row. Used for the input line.
 */
export function hardWrap(text: string, width: number): Row[] {
  const rows: Row[] = [];
  const max = Math.max(1, width);
  let start = 0;
  let used = 0;
  let index = 0;
  for (const g of splitGraphemes(text)) {
    if (g === '\n') {
      rows.push({ start, end: index });
      index += g.length;
      start = index;
      used = 0;
      continue;
    }
    const gw = cellWidth(g);
    if (used + gw > max && used > 0) {
      rows.push({ start, end: index });
      start = index;
      used = 0;
    }
    used += gw;
    index += g.length;
  }
  rows.push({ start, end: index });
  return rows;
}
