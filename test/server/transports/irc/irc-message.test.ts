import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeTagValue,
  formatMessage,
  parseMessage,
  unescapeTagValue,
} from '../../../../src/server/transports/irc/message.js';
import { sanitizeText } from '../../../../src/protocol/sanitize.js';
import { splitText } from '../../../../src/server/transports/irc/split.js';
import { nastyString } from '../../../helpers/fuzz-frames.js';

describe('IRC line parser and serializer', () => {
  it('reads tags, source, verb and parameters', () => {
    const m = parseMessage('@label=a\\sb;+draft/x;time=t :nick!u@h privmsg #chan  mid :trailing text ');
    expect(m).toEqual({
      tags: new Map([
        ['label', 'a b'],
        ['+draft/x', ''],
        ['time', 't'],
      ]),
      source: 'nick!u@h',
      command: 'PRIVMSG',
      params: ['#chan', 'mid', 'trailing text '],
    });
    expect(parseMessage('')).toBeUndefined();
    expect(parseMessage('@only-tags')).toBeUndefined();
    expect(parseMessage(':source-only')).toBeUndefined();
    expect(parseMessage('!!! x')).toBeUndefined();
    expect(parseMessage('001 x')?.command).toBe('001');
  });

  it('tag values survive escaping both ways', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const escaped = escapeTagValue(value.replace(/\r|\n/g, ''));
        expect(escaped).not.toMatch(/[ ;\r\n]/);
        expect(unescapeTagValue(escaped)).toBe(value.replace(/\r|\n/g, ''));
      }),
    );
  });

  it('fuzz: parsing never throws, and whatever is formatted is one line whose parameters read back', () => {
    const word = fc.oneof(
      nastyString,
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom(':', ' ', '', '#x'),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), nastyString, (raw, nasty) => {
        parseMessage(raw);
        parseMessage(nasty);
        parseMessage(`@${nasty} ${raw}`);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 6 }),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(nastyString, fc.string())),
        word,
        (params, tags, source) => {
          const line = formatMessage({ tags, source, command: 'PRIVMSG', params });
          expect(line.endsWith('\r\n')).toBe(true);
          const body = line.slice(0, -2);
          expect(body).not.toMatch(/[\r\n\0]/);
          const back = parseMessage(body)!;
          expect(back.command).toBe('PRIVMSG');
          expect(back.params).toHaveLength(params.length);
          // A CTCP frame (`\x01ACTION waves\x01`) is kept as the last parameter: its two
          // delimiters are the only control bytes a line may carry.
          const lastParam = params[params.length - 1]!;
          const ctcp = /^\x01[\s\S]*\x01$/.test(lastParam);
          const unframed = ctcp ? body.replace(/\x01([^\x01]*)\x01$/, '$1') : body;
          expect(unframed).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e]/);
          // The last parameter is kept whole, as the sanitiser leaves it; none can add a parameter.
          if (!ctcp) expect(back.params[params.length - 1]).toBe(sanitizeText(lastParam));
          for (const [key, value] of Object.entries(tags)) {
            expect(back.tags.get(key) ?? '').toBe(sanitizeText(value).replace(/[^\S ]/g, ''));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('splitText', () => {
  it('splits at word boundaries within the byte budget and loses nothing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((w) => !/\s/.test(w)),
          {
            minLength: 1,
            maxLength: 200,
          },
        ),
        fc.integer({ min: 8, max: 500 }),
        (words, budget) => {
          const text = words.join(' ');
          const pieces = splitText(text, budget);
          for (const p of pieces) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(budget);
          // Rejoined: the text with at most its split spaces moved to the piece boundaries.
          expect(pieces.join(' ').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
          expect(pieces.join('').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
        },
      ),
    );
  });

  it('never cuts inside a character, and splits at newlines', () => {
    expect(splitText('a\n\nb', 10)).toEqual(['a', 'b']);
    const long = '😀'.repeat(50);
    const pieces = splitText(long, 10);
    expect(pieces.join('')).toBe(long);
    for (const p of pieces) expect(p).toMatch(/^(😀)+$/);
  });
});
