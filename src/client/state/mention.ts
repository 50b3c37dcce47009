import { nickKey } from '../../protocol/nick.js';

let cachedNick = '';
let cachedPattern: RegExp | null = null;

/**
 * True when `text` names `nick` as a whole word (case-insensitive): `hi alice` and `alice:`
 * mention alice, `malice` does not.
 */
export function mentions(text: string, nick: string): boolean {
  if (nick === '') return false;
  if (nick !== cachedNick) {
    const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    cachedPattern = new RegExp(`(?:^|[^\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu');
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
