import { nickKey } from '../../protocol/nick.js';
import type { Segment } from './layout/entry-lines.js';
import { cellWidth, splitGraphemes } from './layout/wrap.js';

/**
 * Nick colours for 16-colour terminals. Colours that mean something elsewhere are left out:
 * yellow (a message that mentions you), red (errors), magenta (mentions in the sidebar), blue
 * (the unread marker), and black, white and grey (chrome, invisible on one background or the other).
 */
const PALETTE_16 = ['cyan', 'green', 'cyanBright', 'greenBright', 'blueBright'] as const;

/** xterm's 6x6x6 cube levels. */
const LEVELS = [0, 95, 135, 175, 215, 255];

/**
 * Nick colours for 256-colour terminals: the cube colours that read on dark and light
 * backgrounds (mid lightness, clearly saturated) and whose hue is far from the red, yellow and
 * magenta that carry meaning. Computed once.
 */
export const PALETTE_256: readonly string[] = (() => {
  const out: string[] = [];
  for (let r = 0; r < 6; r++)
    for (let g = 0; g < 6; g++)
      for (let b = 0; b < 6; b++) {
        const [h, s, l] = hsl(LEVELS[r]!, LEVELS[g]!, LEVELS[b]!);
        // Luminance keeps deep blues off black backgrounds and neon greens off white ones.
        const y = (0.2126 * LEVELS[r]! + 0.7152 * LEVELS[g]! + 0.0722 * LEVELS[b]!) / 255;
        if (s < 0.3 || l < 0.3 || l > 0.75 || y < 0.15 || y > 0.72) continue;
        // Hues from violet round through red and orange to yellow (270..80) mean something.
        if (h >= 270 || h < 80) continue;
        out.push(`ansi256(${16 + 36 * r + 6 * g + b})`);
      }
  return out;
})();

function hsl(r: number, g: number, b: number): [number, number, number] {
  const [rr, gg, bb] = [r / 255, g / 255, b / 255];
  const max = Math.max(rr, gg, bb);
  const min = Math.min(rr, gg, bb);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return [0, 0, l];
  const s = d / (1 - Math.abs(2 * l - 1));
  let h = max === rr ? ((gg - bb) / d) % 6 : max === gg ? (bb - rr) / d + 2 : (rr - gg) / d + 4;
  h *= 60;
  return [h < 0 ? h + 360 : h, s, l];
}

/**
 * True when the terminal shows 256 colours (the way supports-color, which Ink's chalk uses,
 * decides it): a `-256color` TERM, or a truecolor COLORTERM.
 */
export function has256Colors(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return true;
  if (env.TERM_PROGRAM === 'iTerm.app' || env.TERM_PROGRAM === 'Apple_Terminal') return true;
  return /-256(color)?$/i.test(env.TERM ?? '');
}

let palette: readonly string[] = has256Colors() ? PALETTE_256 : PALETTE_16;
const cache = new Map<string, string>();

/** Chooses the palette (tests; the default follows the terminal). */
export function setNickPalette(colors: 16 | 256): void {
  palette = colors === 256 ? PALETTE_256 : PALETTE_16;
  cache.clear();
}

/** FNV-1a with a final avalanche (murmur3's fmix32), so every bit of the nick moves the colour. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The same colour for a nick on every screen and every run, hashed over the nick's collision
 * key, so `Alice` and `alice` (one person to the server) also share a colour.
 */
export function nickColor(nick: string): string {
  let colour = cache.get(nick);
  if (colour) return colour;
  colour = palette[hash(nickKey(nick)) % palette.length]!;
  if (cache.size > 5_000) cache.clear();
  cache.set(nick, colour);
  return colour;
}

/** Nicks wider than this are cut with `…` in the message column (shown whole in /users). */
export const NICK_COLUMN_MAX = 12;

/** A nick fitted to {@link NICK_COLUMN_MAX} cells: cut with `…` when longer. */
export function fitNick(nick: string): string {
  if (cellWidth(nick) <= NICK_COLUMN_MAX) return nick;
  let out = '';
  let used = 0;
  for (const g of splitGraphemes(nick)) {
    const w = cellWidth(g);
    if (used + w > NICK_COLUMN_MAX - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/**
 * The nick as the message column shows it: cut to fit, in its colour; your own in the terminal's
 * own foreground and bold, one fixed colour that no other nick gets.
 */
export function nickSegment(nick: string, self: boolean): Segment {
  return self ? { text: fitNick(nick), bold: true } : { text: fitNick(nick), color: nickColor(nick) };
}
