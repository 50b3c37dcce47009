/**
 * A confusable skeleton in the spirit of Unicode TR39: characters that look alike map to one
 * representative so look-alike nicks collide. This table covers the common Latin look-alikes
 * from Cyrillic, Greek and other scripts plus digit/letter swaps used to impersonate.
 */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l', ɡ: 'g', ү: 'y', ь: 'b', ѡ: 'w',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
  ϲ: 'c', ϳ: 'j', ω: 'w',
  // Latin look-alikes and digits
  ı: 'i', ł: 'l', ɩ: 'i', ɑ: 'a', ʏ: 'y', '0': 'o', '1': 'l', '|': 'l', '5': 's', '$': 's',
  // Armenian and others
  օ: 'o', ս: 'u', ց: 'g', հ: 'h', ո: 'n', ⅼ: 'l',
};

/** Maps every character of `text` (already NFKC + lower-cased) to its confusable representative. */
export function skeleton(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) {
    // Combining marks (accents) are stripped so `é` and `e` collide too.
    if (/\p{M}/u.test(ch)) continue;
    out += CONFUSABLES[ch] ?? ch;
  }
  // `rn` reads as `m` in most terminal fonts; `vv` as `w`; `i` and `l` as each other.
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/i/g, 'l');
}
