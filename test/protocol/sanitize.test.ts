import { describe, expect, it } from 'vitest';
import { checkNick, nickKey } from '../../src/protocol/nick.js';
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
    ];
    for (const [a, b] of same) expect(nickKey(b!), `${a} vs ${b}`).toBe(nickKey(a!));
    expect(nickKey('alice')).not.toBe(nickKey('bob'));
  });
});
