import { nickKey } from '../../protocol/nick.js';

/** Colours that read on both dark and light backgrounds; no black, white or grey (used for chrome). */
const PALETTE = [
  'cyan',
  'green',
  'yellow',
  'magenta',
  'blue',
  'red',
  'cyanBright',
  'greenBright',
  'yellowBright',
  'magentaBright',
  'blueBright',
  'redBright',
] as const;

/** A colour name Ink's `<Text color>` accepts. */
export type NickColor = (typeof PALETTE)[number];

const cache = new Map<string, NickColor>();

/**
 * The same colour for a nick on every screen and every run: FNV-1a over the nick's collision
 * key, so `Alice` and `alice` (one person to the server) also share a colour.
 */
export function nickColor(nick: string): NickColor {
  let colour = cache.get(nick);
  if (colour) return colour;
  let hash = 0x811c9dc5;
  for (const ch of nickKey(nick)) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  colour = PALETTE[hash % PALETTE.length]!;
  if (cache.size > 5_000) cache.clear();
  cache.set(nick, colour);
  return colour;
}
