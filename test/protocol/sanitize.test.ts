import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFUSABLES_TABLE, CONFUSABLES_VERSION } from '../../src/protocol/confusables-data.js';
import { checkNick, nickKey } from '../../src/protocol/nick.js';
import { lookAlikeKey, skeleton } from '../../src/protocol/skeleton.js';
import { isTerminalSafe, sanitizeText } from '../../src/protocol/sanitize.js';

describe('sanitizeText', () => {
  it.each([
    ['plain', 'plain'],
    ['\u001b[31mred\u001b[0m', 'red'],
    ['title\u001b]0;pwned\u0007!', 'title!'],
    ['osc-st\u001b]8;;http://x\u001b\\link', 'osc-stlink'],
    ['bell\u0007', 'bell'],
    ['c1\u009b31mx', 'c1x'],
    ['dcs\u001bPq#0;2;0;0;0\u001b\\end', 'dcsend'],
    ['cursor\u001b[10;10Hmove', 'cursormove'],
    ['bidi\u202eevil\u202c', 'bidievil'],
    ['tab\there', 'tab here'],
    ['line\nbreak', 'line break'],
    ['nul\u0000byte', 'nulbyte'],
    ['del\u007f', 'del'],
    ['lone\ud800surrogate', 'lone\ufffdsurrogate'],
    ['emoji 😀 ok', 'emoji 😀 ok'],
  ])('%j -> %j', (input, expected) => {
    expect(sanitizeText(input)).toBe(expected);
  });

  it('keeps newlines when asked', () => {
    expect(sanitizeText('a\r\nb', { keepNewlines: true })).toBe('a\nb');
  });

  it('leaves no C0/C1 control character whatever the input', () => {
    for (let c = 0; c < 0xa0; c++) {
      const out = sanitizeText(`x${String.fromCharCode(c)}[31my`);
      expect(isTerminalSafe(out)).toBe(true);
      expect(/[\u0000-\u001f\u007f-\u009f]/.test(out)).toBe(false);
    }
  });
});

describe('nicks', () => {
  it.each([
    ['alice', true],
    ['Ünïcode', true],
    ['日本語', true],
    ['', false],
    ['has space', false],
    ['tab\t', false],
    ['zw\u200bj', false],
    ['rtl\u202e', false],
    ['x'.repeat(32), true],
    ['x'.repeat(33), false],
    // Blank and default-ignorable characters: a nick that looks like alice but is not.
    ['alice\u3164', false], // HANGUL FILLER
    ['alice\u115f', false], // HANGUL CHOSEONG FILLER
    ['alice\u1160', false], // HANGUL JUNGSEONG FILLER
    ['alice\uffa0', false], // HALFWIDTH HANGUL FILLER
    ['alice\u2800', false], // BRAILLE PATTERN BLANK
    ['alice\u034f', false], // COMBINING GRAPHEME JOINER
    ['alice\ufe0f', false], // VARIATION SELECTOR-16
    ['\u3164', false],
  ])('%j valid: %s', (nick, ok) => {
    expect(checkNick(nick).ok).toBe(ok);
  });

  it('normalises with NFKC', () => {
    expect(checkNick('ｆｕｌｌ').ok && (checkNick('ｆｕｌｌ') as { nick: string }).nick).toBe('full');
  });

  it('collides case-insensitively and on look-alikes', () => {
    const same = [
      ['evan', 'Evan'],
      ['evan', 'еvan'], // Cyrillic е
      ['paypal', 'раураl'], // Cyrillic р, а, у
      ['alice', 'alіce'], // Ukrainian і
      ['bob', 'b0b'],
      ['admin', 'admín'],
      ['oscar', 'οscar'], // Greek ο
      ['lily', 'IiIy'],
      ['mike', 'rnike'],
      ['will', 'vvill'],
      ['sam', 'ѕam'], // Cyrillic ѕ
      ['alice', 'ᴀlice'], // LATIN LETTER SMALL CAPITAL A
      ['alice', 'alicᴇ'], // LATIN LETTER SMALL CAPITAL E
      ['alice', 'ALICE'],
      ['alice', 'Αlice'], // Greek capital alpha
      ['alice', 'ꭺlice'], // Cherokee small letter go
      ['alice', '𝐚𝐥𝐢𝐜𝐞'], // mathematical bold
      ['alice', 'a1ice'],
      ['bob', 'ʙob'], // small capital B
    ];
    for (const [a, b] of same) expect(nickKey(b!), `${a} vs ${b}`).toBe(nickKey(a!));
    expect(nickKey('alice')).not.toBe(nickKey('bob'));
  });
});

describe('confusable skeletons (UTS #39 data)', () => {
  it('is the full confusables.txt, not a hand list', () => {
    expect(CONFUSABLES_TABLE.split(',').length).toBeGreaterThan(6000);
    expect(CONFUSABLES_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(skeleton('ꭺ')).toBe('ᴀ');
    expect(skeleton('paypal')).toBe('paypal');
    expect(skeleton('раураl')).toBe('paypal');
  });

  const nickish = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 });

  it('the skeleton and the look-alike key are idempotent', () => {
    fc.assert(
      fc.property(nickish, (s) => {
        expect(skeleton(skeleton(s))).toBe(skeleton(s));
        expect(lookAlikeKey(lookAlikeKey(s))).toBe(lookAlikeKey(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('a nick that is accepted holds no default-ignorable, blank or space character, and keeps its key when its Latin letters change case', () => {
    fc.assert(
      fc.property(nickish, (raw) => {
        const check = checkNick(raw);
        if (!check.ok) return;
        expect(/[\p{Default_Ignorable_Code_Point}\p{Z}\s\u2800]/u.test(check.nick)).toBe(false);
        const swapped = check.nick.replace(/[a-z]/gi, (c) =>
          c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
        );
        expect(nickKey(swapped)).toBe(nickKey(check.nick));
      }),
      { numRuns: 2000 },
    );
  });
});
