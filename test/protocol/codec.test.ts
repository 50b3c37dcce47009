import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointLength, decodeClientFrame } from '../../src/protocol/codec.js';
import { MAX_MESSAGE_LINES } from '../../src/protocol/limits.js';

const code = (text: string) => {
  const r = decodeClientFrame(text);
  return r.ok ? 'ok' : r.error.code;
};

describe('decodeClientFrame', () => {
  it.each([
    ['{"type":"ping","payload":null}', 'ok'],
    ['{"type":"ping"}', 'ok'],
    ['{"type":"rooms","payload":{}}', 'ok'],
    ['not json', 'bad_json'],
    ['null', 'bad_frame'],
    ['"ping"', 'bad_frame'],
    ['[]', 'bad_frame'],
    ['{"payload":{}}', 'bad_frame'],
    ['{"type":5}', 'bad_frame'],
    ['{"type":"nope","payload":{}}', 'unknown_type'],
    ['{"type":"__proto__","payload":{}}', 'unknown_type'],
    ['{"type":"join","payload":null}', 'invalid_payload'],
    ['{"type":"join","payload":{"room_id":7}}', 'invalid_payload'],
    ['{"type":"join","payload":{"room_id":"a b"}}', 'bad_room_id'],
    ['{"type":"join","payload":{"room_id":""}}', 'bad_room_id'],
    ['{"type":"join","payload":{"room_id":"ok.room-1_x"}}', 'ok'],
    ['{"type":"hello","payload":{"user_name":"has space"}}', 'bad_nick'],
    ['{"type":"hello","payload":{"user_name":"zero\\u200bwidth"}}', 'bad_nick'],
    ['{"type":"hello","payload":{"user_name":"bidi\\u202eevil"}}', 'bad_nick'],
    ['{"type":"hello","payload":{"user_name":"ünïcødé"}}', 'ok'],
    ['{"type":"message","payload":{"room_id":"r","message":""}}', 'empty_message'],
    ['{"type":"message","payload":{"room_id":"r","message":"\\u001b[2J"}}', 'empty_message'],
    ['{"type":"history","payload":{"room_id":"r","limit":-1}}', 'invalid_payload'],
    ['{"type":"ping","payload":null,"ref":{"x":1}}', 'invalid_payload'],
    ['{"type":"ping","payload":null,"ref":"\\u001b]0;title\\u0007"}', 'invalid_payload'],
    ['{"type":"ping","payload":null,"ref":"line\\nbreak"}', 'invalid_payload'],
    ['{"type":"ping","payload":null,"ref":"\\u202eevil"}', 'invalid_payload'],
    ['{"type":"ping","payload":null,"ref":"é😀 ok"}', 'ok'],
    ['{"type":"register","payload":{"password":"1234567"}}', 'bad_password'],
  ])('%s -> %s', (text, expected) => {
    expect(code(text)).toBe(expected);
  });

  it('never carries a ref with terminal controls into its error (it would be echoed)', () => {
    const r = decodeClientFrame('{"type":"ping","payload":null,"ref":"\\u001b[2J"}');
    expect(r.ok).toBe(false);
    expect(r).not.toHaveProperty('ref');
  });

  it('echoes the ref on errors it can attribute', () => {
    const r = decodeClientFrame('{"type":"join","payload":{},"ref":"abc"}');
    expect(r).toMatchObject({ ok: false, ref: 'abc', error: { code: 'invalid_payload' } });
  });

  it('counts message length in characters, not UTF-16 units', () => {
    const emoji = '😀'.repeat(4000);
    expect(codePointLength(emoji)).toBe(4000);
    expect(code(JSON.stringify({ type: 'message', payload: { room_id: 'r', message: emoji } }))).toBe('ok');
    expect(code(JSON.stringify({ type: 'message', payload: { room_id: 'r', message: emoji + '😀' } }))).toBe(
      'message_too_long',
    );
  });

  it('strips terminal control from message text but keeps newlines', () => {
    const r = decodeClientFrame(
      JSON.stringify({ type: 'message', payload: { room_id: 'r', message: 'a\u001b[31mred\u0007\nline2' } }),
    );
    expect(r.ok && r.message.type === 'message' && r.message.payload.message).toBe('ared\nline2');
  });

  describe('message shape: lines', () => {
    const decode = (type: 'message' | 'dm', message: string) =>
      decodeClientFrame(
        JSON.stringify(
          type === 'message'
            ? { type, payload: { room_id: 'r', message } }
            : { type, payload: { to: 'bob', message } },
        ),
      );
    const text = (message: string) => {
      const r = decode('message', message);
      return r.ok && r.message.type === 'message' ? r.message.payload.message : r.ok ? '?' : r.error.code;
    };

    it('folds runs of blank lines into one and drops blank lines at either end', () => {
      expect(text('a\n\n\n\n\nb')).toBe('a\n\nb');
      expect(text('\n\n  \n  indented\n \t \n\r\nlast\n\n')).toBe('  indented\n\nlast');
      expect(text('one line, untouched  ')).toBe('one line, untouched  ');
    });

    it('a newline flood is empty or refused, never thousands of lines', () => {
      expect(text('\n'.repeat(3998))).toBe('empty_message');
      expect(text('x' + '\n'.repeat(3998) + 'y')).toBe('x\n\ny');
      expect(text('x\n'.repeat(1999))).toBe('too_many_lines');
      expect(
        text(Array.from({ length: MAX_MESSAGE_LINES }, (_, i) => `l${i}`).join('\n')).split('\n'),
      ).toHaveLength(MAX_MESSAGE_LINES);
      expect(text(Array.from({ length: MAX_MESSAGE_LINES + 1 }, (_, i) => `l${i}`).join('\n'))).toBe(
        'too_many_lines',
      );
      const dm = decode('dm', 'x\n'.repeat(60));
      expect(dm).toMatchObject({ ok: false, error: { code: 'too_many_lines' } });
    });

    it('every accepted message has at most the line limit and no blank run', () => {
      const lines = fc.array(fc.oneof(fc.constant(''), fc.constant(' '), fc.string({ maxLength: 5 })), {
        maxLength: 120,
      });
      fc.assert(
        fc.property(lines, (parts) => {
          const r = decode('message', parts.join('\n'));
          if (!r.ok || r.message.type !== 'message') return;
          const out = r.message.payload.message.split('\n');
          expect(out.length).toBeLessThanOrEqual(MAX_MESSAGE_LINES);
          expect(
            out.some(
              (l, i) => l.trim() === '' && (i === 0 || i === out.length - 1 || out[i - 1]!.trim() === ''),
            ),
          ).toBe(false);
        }),
      );
    });
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'message', payload: v })),
        ),
        (text) => {
          const r = decodeClientFrame(text);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('issue 14 requests', () => {
  it.each([
    ['{"type":"message","payload":{"room_id":"r","message":"waves","kind":"action"}}', 'ok'],
    ['{"type":"message","payload":{"room_id":"r","message":"x","kind":"topic"}}', 'invalid_payload'],
    ['{"type":"dm","payload":{"to":"bob","message":"waves","kind":"action"}}', 'ok'],
    ['{"type":"dm","payload":{"to":"bob","message":"x","kind":"shout"}}', 'invalid_payload'],
    ['{"type":"away","payload":{"message":"lunch"}}', 'ok'],
    ['{"type":"away","payload":null}', 'ok'],
    ['{"type":"away"}', 'ok'],
    ['{"type":"away","payload":{"message":5}}', 'invalid_payload'],
    [`{"type":"away","payload":{"message":"${'x'.repeat(301)}"}}`, 'bad_status'],
    [`{"type":"away","payload":{"message":"${'x'.repeat(300)}"}}`, 'ok'],
    ['{"type":"quit","payload":{"reason":"bye"}}', 'ok'],
    ['{"type":"quit","payload":null}', 'ok'],
    [`{"type":"quit","payload":{"reason":"${'😀'.repeat(301)}"}}`, 'bad_status'],
    ['{"type":"whois","payload":{"user_name":"bob"}}', 'ok'],
    ['{"type":"whois","payload":{"user_name":"a b"}}', 'bad_nick'],
    ['{"type":"whois","payload":{}}', 'invalid_payload'],
  ])('%s -> %s', (frame, want) => {
    expect(code(frame)).toBe(want);
  });

  it('makes an away message or quit reason one clean line; blank means none', () => {
    const away = decodeClientFrame('{"type":"away","payload":{"message":" out\\n\\u001b[2Jto lunch "}}');
    expect(away.ok && away.message.payload).toEqual({ message: 'out to lunch' });
    const blank = decodeClientFrame('{"type":"away","payload":{"message":"   "}}');
    expect(blank.ok && blank.message.payload).toEqual({});
    const quit = decodeClientFrame('{"type":"quit","payload":null}');
    expect(quit.ok && quit.message.payload).toEqual({});
  });
});
