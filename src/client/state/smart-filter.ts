import { sameNick } from './mention.js';
import type { Conversation } from './types.js';

/** A join or leave is shown only when its nick spoke within this window (WeeChat's smart filter). */
export const SMART_FILTER_MS = 10 * 60_000;

/**
 * True when `nick` has not said anything in `conv` in the last {@link SMART_FILTER_MS} before
 * `now`: their join or leave is noise (a server restart would otherwise fill every room with
 * them). Walks back from the newest entry only as far as the window reaches.
 */
export function isQuiet(conv: Conversation, nick: string, now: number): boolean {
  const since = now - SMART_FILTER_MS;
  for (let i = conv.entries.length - 1; i >= 0; i--) {
    const e = conv.entries[i]!;
    if (e.ts < since) break;
    if (e.kind === 'message' && sameNick(e.nick, nick)) return false;
  }
  return true;
}
