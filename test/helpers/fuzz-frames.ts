/**
 * fast-check arbitraries for hostile client frames: valid requests, valid requests with one
 * field mutated (wrong types, huge strings, control characters, odd numbers, nested objects),
 * arbitrary JSON, and broken JSON text. Refs of every kind ride along; {@link finalizeFrame}
 * turns a draft into the exact text sent plus what the server must answer, using the codec
 * itself as the oracle (it is pure and never throws).
 */
import fc from 'fast-check';
import { decodeClientFrame } from '../../src/protocol/codec.js';
import { refKey, type ReplyLedger } from './ledger.js';

/** How a draft's ref is chosen when the frame is written. */
export type RefChoice =
  | { kind: 'unique-string' }
  | { kind: 'unique-number' }
  | { kind: 'value'; value: unknown }
  | { kind: 'absent' };

/** A frame before its ref is fixed: a JSON object, or raw text (ref, if any, inside). */
export type Draft =
  | { kind: 'object'; obj: Record<string, unknown>; ref: RefChoice; want?: Want }
  | { kind: 'text'; text: string };

/**
 * What a labelled draft must decode to, worked out by its generator without the codec: `ok`
 * or the error code. {@link finalizeFrame} throws when the codec disagrees, so these frames
 * check the oracle itself, not only the server against it.
 */
export type Want = 'ok' | 'bad_nick' | 'too_many_lines' | 'empty_message';

/** The largest frame the server reads; bigger ones close the connection with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
const C1 = Array.from({ length: 33 }, (_, i) => String.fromCharCode(0x7f + i));
const BIDI = [
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u2028',
  '\u2029',
];
const NASTY = [
  ...C0,
  ...C1,
  ...BIDI,
  '\u200b',
  '\u200d',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\ufffe',
  '\uffff',
  '\u{10ffff}',
  '\x1b[2J',
  '\x1b]0;title\x07',
  '\x1b[31m',
  '\x9b1m',
  '\x1bP',
  '"',
  '\\',
  '/',
  '\u0301',
];

/** Strings made of control bytes, escape sequences, bidi and other troublesome characters. */
export const nastyString = fc
  .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 3 })), { maxLength: 24 })
  .map((parts) => parts.join(''));

const hugeString = fc
  .tuple(
    fc.constantFrom('x', '€', '😀', 'e\u0301', '\x1b', '\u202e'),
    fc.constantFrom(4_000, 4_001, 8_000, 16_000, 30_000, 70_000),
  )
  .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)));

const specialNumber = fc.constantFrom(
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1e308,
  -1e308,
  5e-324,
  2 ** 53,
  2 ** 53 + 1,
  -1,
  1.5,
  2 ** 31,
  -(2 ** 31),
  1e21,
);

/** Any value a hostile client might put where a field is expected. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 10 },
  { arbitrary: nastyString, weight: 10 },
  // Rare: big frames are costly to build, send and parse, and the point is made by a few.
  { arbitrary: hugeString, weight: 1 },
  { arbitrary: specialNumber, weight: 10 },
  { arbitrary: fc.double(), weight: 5 },
  { arbitrary: fc.integer(), weight: 5 },
  { arbitrary: fc.boolean(), weight: 5 },
  { arbitrary: fc.constant(null), weight: 5 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 10 },
  { arbitrary: fc.array(fc.string(), { maxLength: 5 }), weight: 5 },
  {
    arbitrary: fc.dictionary(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'room_id', 'a'),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    weight: 5,
  },
);

const roomId = fc.oneof(
  { arbitrary: fc.constantFrom('lobby', 'r1', 'r2', 'r3', 'room_1'), weight: 8 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), weight: 1 },
);
const nick = fc.oneof(
  {
    arbitrary: fc.constantFrom('alice', 'bob', 'carol', 'dave', 'Алиса', 'ｆｕｌｌ', 'evan', 'еvan'),
    weight: 4,
  },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), weight: 2 },
  { arbitrary: nastyString, weight: 1 },
);
const text = fc.oneof(
  { arbitrary: fc.string({ maxLength: 80 }), weight: 30 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }), weight: 10 },
  { arbitrary: nastyString, weight: 10 },
  { arbitrary: fc.constantFrom('', '   ', '\n', '\r\n', '\t'), weight: 5 },
  {
    arbitrary: fc.constantFrom('x'.repeat(4000), 'x'.repeat(4001), '😀'.repeat(4000), '😀'.repeat(4001)),
    weight: 1,
  },
);
/**
 * Default-ignorable and blank code points (issue 11 item 5): Hangul fillers (U+3164, U+115F,
 * U+1160, halfwidth U+FFA0), braille blank, zero-widths, variation selectors, soft hyphen,
 * combining grapheme joiner, Mongolian vowel separator, a tag character. A nick holding any of
 * them, anywhere, is refused as `bad_nick`.
 */
export const BLANK_CODE_POINTS = [
  '\u3164',
  '\u115f',
  '\u1160',
  '\uffa0',
  '\u2800',
  '\u200b',
  '\u200c',
  '\u2060',
  '\ufe0f',
  '\ufe00',
  '\u00ad',
  '\u034f',
  '\u180e',
  '\u{e0041}',
];

/** A plain nick with blank code points at its start, middle, end, or alone: always `bad_nick`. */
export const blankNick: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('alice', 'bob', 'evan', 'ci-bot', 'Алиса'),
    fc.constantFrom(...BLANK_CODE_POINTS),
    fc.constantFrom('start', 'middle', 'end', 'alone', 'twice'),
  )
  .map(([base, blank, where]) => {
    const mid = Math.floor(base.length / 2);
    switch (where) {
      case 'start':
        return blank + base;
      case 'middle':
        return base.slice(0, mid) + blank + base.slice(mid);
      case 'end':
        return base + blank;
      case 'alone':
        return blank;
      default:
        return blank + blank;
    }
  });

/**
 * A newline flood (issue 11 item 11) with its line count after folding worked out here: `k`
 * printable lines joined by single newlines or by runs of blank lines (spaces, tabs, ideographic
 * spaces), with blank runs before and after. Each inner blank run folds to one empty line and the
 * outer ones vanish, so the message has `k + inner runs` lines; over 50 is `too_many_lines`.
 * A message of nothing but blank lines is `empty_message`. Stays under 4,000 characters.
 */
export const newlineFlood: fc.Arbitrary<{ text: string; want: Want }> = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 80 }),
        // Bounded so the text stays under 4,000 characters even with CRLF and two-space blanks
        // (80 lines x (4 + 2 + 8 x 4) + 2 x 20 x 4 = 3,200): past that the codec rightly answers
        // message_too_long first, which this oracle does not predict.
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })), { minLength: 80, maxLength: 80 }),
        fc.constantFrom('', ' ', '  ', '\t', '\u3000'),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
      )
      .map(([k, runs, blank, nl, before, after]) => {
        const blanks = (n: number): string => (blank + nl).repeat(n);
        let text = blanks(before);
        let inner = 0;
        for (let i = 0; i < k; i++) {
          if (i > 0) {
            const run = runs[i] ?? 0;
            text += nl + blanks(run);
            if (run > 0) inner++;
          }
          text += `l${i}`;
        }
        text += nl + blanks(after);
        const want: Want = k === 0 ? 'empty_message' : k + inner > 50 ? 'too_many_lines' : 'ok';
        return { text, want };
      }),
    weight: 6,
  },
  {
    // The attack as reported, and the edges of the limit.
    arbitrary: fc.constantFrom<{ text: string; want: Want }>(
      { text: `x${'\n'.repeat(3_990)}y`, want: 'ok' },
      { text: '\n'.repeat(3_998), want: 'empty_message' },
      { text: 'a\n'.repeat(50), want: 'ok' },
      { text: 'a\n'.repeat(51), want: 'too_many_lines' },
      { text: 'a\n\n'.repeat(25), want: 'ok' }, // 49 lines: 25 a's and 24 folded runs
      { text: 'a\n\n'.repeat(26), want: 'too_many_lines' }, // 51 lines
      { text: 'a\n \n\t\n'.repeat(26), want: 'too_many_lines' },
    ),
    weight: 1,
  },
);

/** Frames whose answer the generator knows: blank-holding nicks and newline floods. */
const labelledDraft: fc.Arbitrary<Draft> = fc
  .oneof(
    {
      arbitrary: blankNick.map((n) => ({
        obj: { type: 'hello', payload: { user_name: n } },
        want: 'bad_nick' as const,
      })),
      weight: 2,
    },
    {
      arbitrary: blankNick.map((n) => ({
        obj: { type: 'nick', payload: { user_name: n } },
        want: 'bad_nick' as const,
      })),
      weight: 2,
    },
    {
      arbitrary: blankNick.map((n) => ({
        obj: { type: 'join', payload: { room_id: 'lobby', user_name: n } },
        want: 'bad_nick' as const,
      })),
      weight: 1,
    },
    {
      arbitrary: blankNick.map((n) => ({
        obj: { type: 'dm', payload: { to: n, message: 'hi' } },
        want: 'bad_nick' as const,
      })),
      weight: 1,
    },
    // Floods go to a room nobody joins and a nick nobody takes: the answer under test is the
    // decoder's, and accepted ones must not add to the message rate limit the other frames meet
    // (its flood rule would cut the connection with a ref-less rate_limited).
    {
      arbitrary: newlineFlood.map(({ text: t, want }) => ({
        obj: { type: 'message', payload: { room_id: 'flood_room', message: t } },
        want,
      })),
      weight: 5,
    },
    {
      arbitrary: newlineFlood.map(({ text: t, want }) => ({
        obj: { type: 'dm', payload: { to: 'nobody_online', message: t } },
        want,
      })),
      weight: 1,
    },
  )
  .map(({ obj, want }): Draft => ({ kind: 'object', obj, ref: { kind: 'unique-string' }, want }));

const seq = fc.oneof(fc.nat(1000), specialNumber);
/** Away messages and quit reasons at and past their 300-character limit. */
const hugeStatus = fc.constantFrom('s'.repeat(300), 's'.repeat(301), '😀'.repeat(300), '😀'.repeat(301));
/** Ban masks of every form, good and bad: address globs, CIDR blocks, broken ones. */
const banMask = fc.oneof(
  fc.constantFrom(
    '*@127.0.0.*',
    '*@10.?.0.1',
    '203.0.113.0/24',
    '::1/128',
    '2001:db8::/129',
    '1.2.3.4/33',
    'a@b',
    '*@',
    '/',
    '*@*',
  ),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(40)).map(([a, b, n]) => `${a}.${b}.0.0/${n}`),
);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 2 });
/**
 * Rarely present: a password makes the server run scrypt (32 MiB, ~50-100 ms, one request of the
 * session at a time), so a few per batch cover the path without turning the fuzz into a hash bench.
 */
const rare = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 60 }, { arbitrary: a, weight: 1 });

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** A valid-shaped payload for each request type (domain rules may still refuse it). */
const validRequest: fc.Arbitrary<{ type: string; payload: unknown }> = fc.oneof(
  {
    arbitrary: fc
      .record({ user_name: nick, password: rare(fc.string({ maxLength: 300 })), user_id: opt(fc.string()) })
      .map((p) => ({ type: 'hello', payload: withoutUndefined(p) })),
    weight: 12,
  },
  {
    arbitrary: fc
      .record({
        room_id: roomId,
        room_name: opt(fc.oneof(text, nastyString)),
        user_name: opt(nick),
        user_id: opt(fc.string()),
      })
      .map((p) => ({ type: 'create_room', payload: withoutUndefined(p) })),
    weight: 12,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, since_seq: opt(seq), user_name: opt(nick) })
      .map((p) => ({ type: 'join', payload: withoutUndefined(p) })),
    weight: 12,
  },
  { arbitrary: fc.record({ room_id: roomId }).map((p) => ({ type: 'leave', payload: p })), weight: 12 },
  {
    arbitrary: fc
      .record({
        room_id: roomId,
        message: text,
        client_msg_id: opt(fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), nastyString)),
        kind: opt(fc.constant('action')),
      })
      .map((p) => ({ type: 'message', payload: withoutUndefined(p) })),
    weight: 48,
  },
  {
    arbitrary: fc
      .record({ to: nick, message: text, kind: opt(fc.constant('action')) })
      .map((p) => ({ type: 'dm', payload: withoutUndefined(p) })),
    weight: 12,
  },
  // Issue 14: away (a long message is bad_status), whois, and quit, which closes the connection.
  {
    arbitrary: fc
      .oneof(fc.constant(null), fc.record({ message: opt(fc.oneof(text, hugeStatus)) }).map(withoutUndefined))
      .map((p) => ({ type: 'away', payload: p })),
    weight: 8,
  },
  { arbitrary: fc.record({ user_name: nick }).map((p) => ({ type: 'whois', payload: p })), weight: 8 },
  {
    arbitrary: fc
      .oneof(fc.constant(null), fc.record({ reason: opt(fc.oneof(text, hugeStatus)) }).map(withoutUndefined))
      .map((p) => ({ type: 'quit', payload: p })),
    weight: 1,
  },
  { arbitrary: fc.record({ user_name: nick }).map((p) => ({ type: 'nick', payload: p })), weight: 12 },
  { arbitrary: fc.constantFrom(null, {}).map((p) => ({ type: 'rooms', payload: p })), weight: 12 },
  { arbitrary: fc.record({ room_id: roomId }).map((p) => ({ type: 'users', payload: p })), weight: 12 },
  {
    arbitrary: fc
      .oneof(fc.constant(null), fc.record({ ts: opt(seq) }).map(withoutUndefined))
      .map((p) => ({ type: 'ping', payload: p })),
    weight: 12,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, before_seq: opt(seq), limit: opt(seq) })
      .map((p) => ({ type: 'history', payload: withoutUndefined(p) })),
    weight: 12,
  },
  {
    arbitrary: fc
      .record({ password: fc.string({ maxLength: 300 }) })
      .map((p) => ({ type: 'register', payload: p })),
    weight: 1,
  },
  // Topics and moderation (issue 14): mostly refused (not in the room, not an operator), which
  // is the point; a fuzzer that registered and made a room owns it and gets the rest through.
  {
    arbitrary: fc
      .record({ room_id: roomId, topic: opt(fc.oneof(text, fc.constant(''), nastyString)) })
      .map((p) => ({ type: 'topic', payload: withoutUndefined(p) })),
    weight: 4,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, user_name: nick, role: fc.constantFrom('operator', 'voice', 'none') })
      .map((p) => ({ type: 'role', payload: p })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, user_name: nick, reason: opt(fc.oneof(text, nastyString)) })
      .map((p) => ({ type: 'kick', payload: withoutUndefined(p) })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, mask: opt(fc.oneof(banMask, nick, nastyString)) })
      .map((p) => ({ type: 'ban', payload: withoutUndefined(p) })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ room_id: roomId, mask: fc.oneof(banMask, nick) })
      .map((p) => ({ type: 'unban', payload: p })),
    weight: 2,
  },
  {
    arbitrary: fc.record({ room_id: roomId, user_name: nick }).map((p) => ({ type: 'invite', payload: p })),
    weight: 2,
  },
  {
    arbitrary: fc
      .record({
        room_id: roomId,
        modes: opt(
          fc.oneof(fc.constantFrom('+t', '-t', '+i', '-i', '+m', '-m', '+tim', '+t-m', 'x'), nastyString),
        ),
      })
      .map((p) => ({ type: 'mode', payload: withoutUndefined(p) })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ user_name: nick, reason: opt(text) })
      .map((p) => ({ type: 'kill', payload: withoutUndefined(p) })),
    weight: 2,
  },
);

/** A valid request with one field (or the payload, or the type) replaced by a hostile value. */
const mutatedRequest = fc
  .tuple(
    validRequest,
    fc.nat(),
    hostileValue,
    fc.constantFrom('field', 'field', 'field', 'extra', 'payload', 'type', 'drop-payload'),
  )
  .map(([req, pick, value, where]) => {
    const payload =
      req.payload && typeof req.payload === 'object' ? { ...(req.payload as Record<string, unknown>) } : {};
    const keys = Object.keys(payload);
    switch (where) {
      case 'field':
        if (keys.length > 0) payload[keys[pick % keys.length]!] = value;
        else payload.x = value;
        return { type: req.type, payload };
      case 'extra':
        payload[['__proto__', 'constructor', 'ref', 'type', 'zzz'][pick % 5]!] = value;
        return { type: req.type, payload };
      case 'payload':
        return { type: req.type, payload: value };
      case 'type':
        return { type: value, payload: req.payload };
      default:
        return { type: req.type };
    }
  });

/** Anything at all where a frame object is expected. */
const arbitraryObject = fc.oneof(
  fc.record({
    type: fc.oneof(
      fc.string(),
      fc.constantFrom(
        '__proto__',
        'constructor',
        'hasOwnProperty',
        'toString',
        'valueOf',
        'error',
        'welcome',
        'message ',
        'MESSAGE',
        '',
      ),
    ),
    payload: hostileValue,
  }),
  fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 4 }),
);

const refChoice: fc.Arbitrary<RefChoice> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'unique-string' as const }), weight: 8 },
  { arbitrary: fc.constant({ kind: 'unique-number' as const }), weight: 3 },
  {
    arbitrary: fc
      .constantFrom(
        0,
        -0,
        '',
        1e308,
        -1e308,
        5e-324,
        2 ** 53,
        -1,
        0.5,
        'x'.repeat(128),
        '\u0000\x1b[2J',
        'é😀',
        ' ',
        '__proto__',
      )
      .map((value) => ({ kind: 'value' as const, value })),
    weight: 2,
  },
  {
    // Refs the server cannot read: refused as invalid_payload, or (NaN, Infinity) sent as null.
    arbitrary: fc
      .constantFrom(
        'x'.repeat(129),
        {},
        [],
        true,
        false,
        { a: 1 },
        [1],
        NaN,
        Infinity,
        null,
        // Terminal controls: refused like any other field, never echoed (issue 11).
        '\x1b]0;title\x07',
        '\x1b[2J',
        '\x9b31m',
        'a\nb',
        '\u202eevil',
      )
      .map((value) => ({ kind: 'value' as const, value })),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'absent' as const }), weight: 1 },
);

/** Text that is not one valid JSON object, built around a real frame so parsers get deep. */
const brokenText = fc
  .tuple(
    validRequest,
    fc.nat(),
    fc.constantFrom(...C0, '\x7f', '\u2028'),
    fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 100 }), weight: 20 },
      { arbitrary: fc.integer({ min: 1, max: 30_000 }), weight: 1 },
    ),
  )
  .chain(([req, pos, ctl, depth]) => {
    const json = JSON.stringify({ ...req, ref: 'broken' });
    const at = 1 + (pos % Math.max(1, json.length - 1));
    return fc.constantFrom(
      json.slice(0, at), // truncated
      `\ufeff${json}`, // BOM
      `${json}x`, // trailing garbage
      `${json}${json}`, // two objects
      json.replace(/"/g, "'"), // single quotes
      json.replace('"broken"', `"br${ctl}oken"`), // raw control char inside a string
      `{"type":"ping","payload":null,"ref":NaN}`,
      `{"type":"message","payload":${'['.repeat(depth)}${']'.repeat(depth)}}`, // deep arrays (valid JSON, bad payload)
      `{"type":"history","payload":{"room_id":${'{"a":'.repeat(Math.min(depth, 10_000))}1${'}'.repeat(Math.min(depth, 10_000))}}}`,
      `{"type":"ping","type":"nope","payload":null}`, // duplicate key, last wins
      `{"type":"ping","payload":{"ts":1e999}}`,
      '',
      ' ',
      'null',
      '[]',
      '"ping"',
      '1',
      'true',
      '{}',
      '{"type":null}',
      `{"type":"${'x'.repeat(200)}","payload":null}`,
      '{"__proto__":{"type":"ping"},"payload":null}',
    );
  });

/** One hostile frame draft. */
export const frameDraft: fc.Arbitrary<Draft> = fc.oneof(
  {
    arbitrary: fc.tuple(validRequest, refChoice).map(([obj, ref]): Draft => ({ kind: 'object', obj, ref })),
    weight: 4,
  },
  {
    arbitrary: fc.tuple(mutatedRequest, refChoice).map(([obj, ref]): Draft => ({ kind: 'object', obj, ref })),
    weight: 4,
  },
  {
    arbitrary: fc
      .tuple(arbitraryObject, refChoice)
      .map(([obj, ref]): Draft => ({ kind: 'object', obj: obj as Record<string, unknown>, ref })),
    weight: 1,
  },
  { arbitrary: labelledDraft, weight: 1 },
  { arbitrary: brokenText.map((t): Draft => ({ kind: 'text', text: t })), weight: 1 },
  {
    arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((t): Draft => ({ kind: 'text', text: t })),
    weight: 1,
  },
);

/** A frame ready to send and what it must be answered with. */
export type FinalFrame =
  | { text: string; expect: 'reply'; key: string }
  | { text: string; expect: 'error'; key: string | undefined; code: string }
  | { text: string; expect: 'close'; closeCode: number };

/** Allocates refs unique to one connection. */
export class RefAllocator {
  private n = 0;
  constructor(private readonly prefix: string) {}
  string(): string {
    return `${this.prefix}.${(this.n++).toString(36)}`;
  }
  number(): number {
    // Integers, fractions and negatives, all distinct.
    const n = this.n++;
    return n % 3 === 0 ? n : n % 3 === 1 ? -n : n + 0.25;
  }
}

function refValue(choice: RefChoice, alloc: RefAllocator): unknown {
  switch (choice.kind) {
    case 'unique-string':
      return alloc.string();
    case 'unique-number':
      return alloc.number();
    case 'value':
      return choice.value;
    case 'absent':
      return undefined;
  }
}

function classify(raw: string): FinalFrame & { decodedRef?: unknown; valid: boolean } {
  // What the server decodes is the UTF-8 round trip (lone surrogates become U+FFFD).
  const text = Buffer.from(raw, 'utf8').toString('utf8');
  if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES)
    return { text, expect: 'close', closeCode: 1009, valid: false };
  const decoded = decodeClientFrame(text);
  // A valid `quit` is answered by closing the connection normally.
  if (decoded.ok && decoded.message.type === 'quit')
    return { text, expect: 'close', closeCode: 1000, valid: true };
  if (decoded.ok)
    return {
      text,
      expect: 'reply',
      key: refKey(decoded.message.ref),
      decodedRef: decoded.message.ref,
      valid: true,
    };
  return {
    text,
    expect: 'error',
    key: decoded.ref === undefined ? undefined : refKey(decoded.ref),
    code: decoded.error.code,
    valid: false,
  };
}

/**
 * Fixes a draft's ref (unique on this connection) and predicts the answer. Returns undefined
 * for the rare raw text that decodes to a valid request without a usable ref (its replies
 * could not be told apart from broadcasts).
 */
export function finalizeFrame(
  draft: Draft,
  ledger: ReplyLedger,
  alloc: RefAllocator,
): FinalFrame | undefined {
  const usable = (f: ReturnType<typeof classify>): boolean => {
    if (f.expect === 'close') return true;
    if (f.expect === 'reply') return f.decodedRef !== undefined && !ledger.isUsed(f.key);
    return f.key === undefined || !ledger.isUsed(f.key);
  };
  if (draft.kind === 'text') {
    const f = classify(draft.text);
    return usable(f) ? strip(f) : undefined;
  }
  const frame: Record<string, unknown> = { ...draft.obj };
  const value = refValue(draft.ref, alloc);
  if (value === undefined) delete frame.ref;
  else frame.ref = value;
  let f = classify(JSON.stringify(frame));
  if (!usable(f)) {
    // A valid request needs a ref of its own, and a ref already used here would be ambiguous.
    frame.ref = alloc.string();
    f = classify(JSON.stringify(frame));
  }
  if (draft.want !== undefined) {
    const got = f.expect === 'reply' ? 'ok' : f.expect === 'error' ? f.code : `close ${f.closeCode}`;
    if (got !== draft.want)
      throw new Error(
        `the codec answers ${got} where ${draft.want} is due: ${JSON.stringify(f.text.slice(0, 200))}`,
      );
  }
  return usable(f) ? strip(f) : undefined;
}

function strip(f: ReturnType<typeof classify>): FinalFrame {
  if (f.expect === 'close') return { text: f.text, expect: 'close', closeCode: f.closeCode };
  if (f.expect === 'reply') return { text: f.text, expect: 'reply', key: f.key };
  return { text: f.text, expect: 'error', key: f.key, code: f.code };
}
