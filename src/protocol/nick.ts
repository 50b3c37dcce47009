import { MAX_NICK_CHARS } from './limits.js';
import { skeleton } from './skeleton.js';

// Control, format (zero-width, bidi), separators (spaces), surrogates, private use, unassigned.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Co}\p{Cn}\s]/u;

/** The outcome of validating a nick: the normalised form, or why it is refused. */
export type NickCheck = { ok: true; nick: string } | { ok: false; reason: string };

/**
 * Validates and NFKC-normalises a nick: 1-32 printable characters, no whitespace, control or
 * format characters. The normalised form is what the server stores and shows.
 */
export function checkNick(raw: unknown): NickCheck {
  if (typeof raw !== 'string') return { ok: false, reason: 'a nick must be a string' };
  const nick = raw.normalize('NFKC');
  const length = [...nick].length;
  if (length === 0) return { ok: false, reason: 'a nick cannot be empty' };
  if (length > MAX_NICK_CHARS) return { ok: false, reason: `a nick is at most ${MAX_NICK_CHARS} characters` };
  if (FORBIDDEN.test(nick)) {
    return { ok: false, reason: 'a nick cannot contain spaces, control, format or invisible characters' };
  }
  return { ok: true, nick };
}

/**
 * The key two nicks collide on: case-folded and reduced to a confusable skeleton, so `Evan`,
 * `evan` and `еvan` (Cyrillic е) are one nick. Only compare keys, never display them.
 */
export function nickKey(nick: string): string {
  return skeleton(nick.normalize('NFKC').toLowerCase()).toLowerCase();
}
