import { MAX_NICK_CHARS } from './limits.js';
import { lookAlikeKey } from './skeleton.js';

// Control, format (zero-width, bidi), separators (spaces), surrogates, private use, unassigned,
// default-ignorable code points (rendered as nothing: Hangul fillers U+115F, U+1160, U+3164,
// U+FFA0, variation selectors, the combining grapheme joiner) and blanks that are none of those
// yet show as an empty cell (U+2800 BRAILLE PATTERN BLANK).
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Co}\p{Cn}\s\p{Default_Ignorable_Code_Point}\u2800]/u;

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
  if (FORBIDDEN.test(nick) || FORBIDDEN.test(raw)) {
    return { ok: false, reason: 'a nick cannot contain spaces, control, format or invisible characters' };
  }
  return { ok: true, nick };
}

/**
 * The key two nicks collide on: NFKC, then case-folded and reduced to a confusable skeleton
 * (see `lookAlikeKey`), so `Evan`, `evan`, `еvan` (Cyrillic е) and `ᴇvan` are one nick. Only
 * compare keys, never display them.
 */
export function nickKey(nick: string): string {
  return lookAlikeKey(nick.normalize('NFKC'));
}
