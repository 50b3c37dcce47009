import { CONFUSABLES_TABLE, SMALL_CAPITALS_TABLE } from './confusables-data.js';

/**
 * Confusable skeletons (Unicode TR39): characters that look alike map to one prototype, so
 * look-alike nicks collide. The data is Unicode's full confusables.txt, generated into
 * confusables-data.ts by scripts/gen-confusables.mjs (see its version there).
 */

function parse(table: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of table.split(',')) {
    const [from, to] = entry.split('>');
    if (from === undefined || to === undefined) continue;
    const chars = (hex: string): string =>
      String.fromCodePoint(...hex.split(' ').map((h) => parseInt(h, 16)));
    map.set(chars(from), chars(to));
  }
  return map;
}

let confusables: Map<string, string> | undefined;
let smallCapitals: Map<string, string> | undefined;

/**
 * The UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again; repeated
 * while that changes anything, so the skeleton of a skeleton is itself (one pass is not always
 * enough: `Ǆ` becomes `DŽ`, whose decomposed caron is in turn a look-alike of the breve).
 */
export function skeleton(text: string): string {
  const map = (confusables ??= parse(CONFUSABLES_TABLE));
  let current = text.normalize('NFD');
  for (let round = 0; round < 8; round++) {
    let out = '';
    for (const ch of current) out += map.get(ch) ?? ch;
    out = out.normalize('NFD');
    if (out === current) break;
    current = out;
  }
  return current;
}

/**
 * The key look-alike nicks share, beyond the plain skeleton: case-folded at every step (so
 * `Alice`, `ALICE` and Greek `Αlice` meet), combining marks stripped (`alicé` reads as `alice` in a
 * small font), Latin small capitals read as their letters (`ᴀlice`; UTS #39 keeps them apart),
 * and `i` read as `l` and `vv` as `w` (`I`, `l`, `1` and `|` are one prototype already). Repeated until it no
 * longer changes, so the key of a key is itself.
 */
export function lookAlikeKey(text: string): string {
  const caps = (smallCapitals ??= parse(SMALL_CAPITALS_TABLE));
  let current = text;
  for (let round = 0; round < 8; round++) {
    let next = '';
    for (const ch of skeleton(current.toLowerCase())) {
      if (/\p{M}/u.test(ch)) continue;
      next += caps.get(ch) ?? ch;
    }
    next = next.toLowerCase().replace(/i/g, 'l').replace(/vv/g, 'w');
    if (next === current) break;
    current = next;
  }
  return current;
}
