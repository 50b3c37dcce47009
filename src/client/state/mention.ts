import { nickKey } from '../../protocol/nick.js';

let cachedNick = '';
let cachedPattern: RegExp | null = null;

/**
 * Characters that continue a word when looking for a mention: letters, digits, marks and the
 * characters nicks are commonly built with (`-`, `_`, `|`, as WeeChat's word_chars_highlight).
 * So `alice-ish` and `alice_` are other words, while `alice:`, `alice,` and `@alice` name alice.
 */
const WORD = String.raw`\p{L}\p{N}\p{M}_\-|`;

/**
 * True when `text` names `nick` as a whole word (case-insensitive): `hi alice` and `alice:`
 * mention alice, `malice` and `alice-ish` do not.
 */
export function mentions(text: string, nick: string): boolean {
  if (nick === '') return false;
  if (nick !== cachedNick) {
    const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    cachedPattern = new RegExp(`(?:^|[^${WORD}])${escaped}(?![${WORD}])`, 'iu');
    cachedNick = nick;
  }
  return cachedPattern!.test(text);
}

/** True when two nicks are the same person as the server sees it (case and look-alikes folded). */
export function sameNick(a: string, b: string): boolean {
  return a === b || nickKey(a) === nickKey(b);
}

/** The conversation id of a DM with `nick`. */
export function dmId(nick: string): string {
  return `@${nickKey(nick)}`;
}
