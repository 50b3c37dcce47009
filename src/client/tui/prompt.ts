import type { ChatState } from '../state/types.js';
import { cellWidth, splitGraphemes } from './layout/wrap.js';

/** The prompt never takes more than this share of the line, so what you type stays visible. */
export const PROMPT_SHARE = 1 / 3;

/**
 * The prompt in front of the input line, at most about a third of `columns` wide: a long room
 * name is cut with `…` (the status bar and sidebar still show it).
 */
export function promptFor(state: ChatState, columns = Infinity): string {
  if (state.nickPrompt) return 'nick> ';
  const conv = state.current === null ? undefined : state.conversations[state.current];
  if (!conv) return '> ';
  const name = conv.kind === 'room' ? `#${conv.id}` : `@${conv.name}`;
  // At least the sigil, one character and the ellipsis, however narrow the terminal.
  const max = Math.max(3, Math.floor(columns * PROMPT_SHARE) - 2);
  return `${truncateCells(name, max)}> `;
}

/** Cuts `text` to at most `width` cells, ending with `…` when anything was cut. */
export function truncateCells(text: string, width: number): string {
  if (cellWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const ch of splitGraphemes(text)) {
    const w = cellWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

/** Where masking starts in the input line (passwords), if anywhere. */
export function inputMask(state: ChatState): number | undefined {
  const text = state.input.text;
  if (state.nickPrompt) {
    const space = text.search(/\s/);
    return space === -1 ? undefined : space + 1;
  }
  const register = /^\/register\s+/i.exec(text);
  return register ? register[0].length : undefined;
}
