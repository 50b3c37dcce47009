/**
 * Long text into IRC lines: a chat message may be far longer than one IRC line can carry (and
 * may hold several lines), so it reaches IRC clients as several messages, each split at a word
 * boundary, never losing a character.
 */

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes: first at its newlines, then each
 * line at the last space that fits (the space is dropped, as a client joining the lines would
 * put it back). A word longer than a whole piece is cut between code points. Empty lines are
 * skipped (an IRC message cannot be empty); the result is never empty for non-blank text.
 */
export function splitText(text: string, maxBytes: number): string[] {
  const budget = Math.max(4, maxBytes);
  const pieces: string[] = [];
  for (const line of text.split('\n')) {
    let rest = line;
    while (Buffer.byteLength(rest, 'utf8') > budget) {
      const cut = cutPoint(rest, budget);
      const head = rest.slice(0, cut.end);
      if (head.trim() !== '') pieces.push(head);
      rest = rest.slice(cut.next);
    }
    if (rest.trim() !== '') pieces.push(rest);
  }
  return pieces;
}

/** Where to cut `text` so the head fits `budget` bytes: after the last space that fits, else between code points. */
function cutPoint(text: string, budget: number): { end: number; next: number } {
  let bytes = 0;
  let lastFit = 0;
  let lastSpace = -1;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + width > budget) break;
    bytes += width;
    if (cp === 0x20) lastSpace = i;
    i += cp > 0xffff ? 2 : 1;
    lastFit = i;
  }
  if (lastSpace > 0) return { end: lastSpace, next: lastSpace + 1 };
  return { end: lastFit, next: lastFit };
}
