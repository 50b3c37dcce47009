/**
 * Issue 6, fuzz: at least 100,000 hostile `POST /post` bodies over keep-alive connections, 32
 * in flight: valid posts, posts with a field of the wrong type or a hostile value, broken and
 * non-object JSON, random bytes, oversized bodies. The post route's own pure parser and the
 * codec predict each status and error code (201 with the stored message, 400 with the codec's
 * code, 404 for an unknown room, 413 past 64 KiB); every request must get exactly that answer,
 * never a 5xx, and a normal client still chats afterwards.
 *
 * Issue 11: each body also goes with a Content-Type (JSON with parameters and in odd case, the
 * text/plain and form types a cross-site form can send, look-alikes such as `application/jsonx`,
 * none) and an Origin (none, the server's own, a foreign site, the own host over https or on
 * another port, a foreign site with a `Host` header forged to match it, `null`). Each carries a
 * label set by hand, not by the server's code: a foreign Origin gets 403 `forbidden_origin`
 * before anything else, then a non-JSON type 415 `unsupported_media_type`.
 */
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeClientValue } from '../../src/protocol/codec.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { parsePostBody } from '../../src/server/transports/post.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { hostileValue, nastyString } from '../helpers/fuzz-frames.js';

const BODIES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const BATCH = 1_000;
const RUNS = Math.ceil(BODIES / BATCH);
const CONCURRENCY = 32;
const MAX_BODY = 64 * 1024;

const username = fc.oneof(
  { arbitrary: fc.constantFrom('alice', 'bob', 'ci-bot', 'Алиса', 'evan', 'еvan', 'ｆｕｌｌ'), weight: 6 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), weight: 2 },
  { arbitrary: nastyString, weight: 1 },
);
const content = fc.oneof(
  { arbitrary: fc.string({ maxLength: 80 }), weight: 6 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }), weight: 2 },
  { arbitrary: nastyString, weight: 2 },
  { arbitrary: fc.constantFrom('', ' ', '\n', 'x'.repeat(4000), 'x'.repeat(4001)), weight: 1 },
);
const room = fc.oneof(
  { arbitrary: fc.constantFrom('lobby', 'nosuchroom', 'bad room', '', '#lobby'), weight: 3 },
  { arbitrary: nastyString, weight: 1 },
);
const validBody = fc
  .record({
    username,
    content,
    room: fc.option(room, { nil: undefined, freq: 3 }),
    password: fc.option(fc.string({ maxLength: 300 }), { nil: undefined, freq: 20 }),
  })
  .map((b) => JSON.stringify(b));
const mutatedBody = fc
  .tuple(
    fc.record({ username, content, room: fc.option(room, { nil: undefined }) }),
    fc.constantFrom('username', 'content', 'room', 'password', 'extra', '__proto__'),
    hostileValue,
  )
  .map(([b, field, value]) => JSON.stringify({ ...b, [field]: value }));
const brokenBody = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '"x"',
    '1',
    '{}',
    '{"username":"a"}',
    '{"content":"a"}',
    '{"username":"a","content":"b"',
    "{'username':'a','content':'b'}",
    '\ufeff{"username":"a","content":"b"}',
  ),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);
const rawBytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const bigBody = fc
  .constantFrom(MAX_BODY - 100, MAX_BODY + 1, 100_000)
  .map((n) => JSON.stringify({ username: 'big', content: 'x'.repeat(n) }));

/** One body as the bytes sent, labelled briefly for counterexamples. */
const body: fc.Arbitrary<Buffer> = fc
  .oneof(
    { arbitrary: validBody.map((t) => Buffer.from(t)), weight: 10 },
    { arbitrary: mutatedBody.map((t) => Buffer.from(t)), weight: 6 },
    { arbitrary: brokenBody.map((t) => Buffer.from(t)), weight: 3 },
    { arbitrary: rawBytes, weight: 2 },
    { arbitrary: bigBody.map((t) => Buffer.from(t)), weight: 1 },
  )
  .map((b) =>
    Object.assign(b, {
      [fc.toStringMethod]: () =>
        `body(${b.length} bytes: ${JSON.stringify(b.subarray(0, 60).toString('utf8'))})`,
    }),
  );

/** A Content-Type header (or none) and whether it names JSON, by hand. */
const contentType = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      { value: 'application/json', json: true },
      { value: 'application/json; charset=utf-8', json: true },
    ),
    weight: 27,
  },
  {
    arbitrary: fc.constantFrom(
      { value: 'Application/JSON', json: true },
      { value: 'application/json ; charset=UTF-8', json: true },
      { value: 'application/json;charset=utf-8;foo=bar', json: true },
      { value: 'text/plain', json: false },
      { value: 'text/plain; charset=utf-8', json: false },
      { value: 'application/x-www-form-urlencoded', json: false },
      { value: 'multipart/form-data; boundary=----x', json: false },
      { value: undefined, json: false },
      { value: '', json: false },
      { value: 'application/jsonx', json: false },
      { value: 'application/json-patch+json', json: false },
      { value: 'application/ld+json', json: false },
      { value: 'text/json', json: false },
      { value: 'application/ json', json: false },
    ),
    weight: 3,
  },
);

/** Who the request says it comes from; `own` ones are the server's origins, the rest foreign. */
type OriginCase = {
  origin?: (port: number) => string;
  host?: (port: number) => string;
  own: boolean;
  label: string;
};
const originCase: fc.Arbitrary<OriginCase> = fc.oneof(
  { arbitrary: fc.constant<OriginCase>({ own: true, label: 'none' }), weight: 24 },
  {
    arbitrary: fc.constantFrom<OriginCase>(
      { origin: (p) => `http://127.0.0.1:${p}`, own: true, label: 'own' },
      { origin: (p) => `http://localhost:${p}`, own: true, label: 'own-localhost' },
      { origin: (p) => `HTTP://LOCALHOST:${p}`, own: true, label: 'own-upper' },
      { origin: () => '', own: true, label: 'empty' },
    ),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom<OriginCase>(
      { origin: () => 'http://evil.example', own: false, label: 'foreign' },
      // DNS rebinding: the attacker's name resolves here and the browser sends it as Host (item 9).
      {
        origin: (p) => `http://evil.example:${p}`,
        host: (p) => `evil.example:${p}`,
        own: false,
        label: 'rebound',
      },
      { origin: (p) => `https://127.0.0.1:${p}`, own: false, label: 'https-own' },
      { origin: (p) => `http://127.0.0.1:${p === 1 ? 2 : p - 1}`, own: false, label: 'other-port' },
      { origin: () => 'null', own: false, label: 'null' },
      { origin: (p) => `file://127.0.0.1:${p}`, own: false, label: 'file' },
      { origin: () => 'http://127.0.0.1.evil.example', own: false, label: 'suffix' },
    ),
    weight: 3,
  },
);

/** One request: body, Content-Type and Origin, labelled briefly for counterexamples. */
const postRequest = fc.tuple(body, contentType, originCase).map(([bytes, type, origin]) =>
  Object.assign(
    { bytes, type, origin },
    {
      [fc.toStringMethod]: () => `${String(bytes)} type=${JSON.stringify(type.value)} origin=${origin.label}`,
    },
  ),
);
type PostRequest = { bytes: Buffer; type: { value: string | undefined; json: boolean }; origin: OriginCase };

/** What the route must answer: status and, for errors, the code. */
function predict(
  { bytes, type, origin }: PostRequest,
  rooms: (id: string) => boolean,
): { status: number; code?: string } {
  // The Origin first (nothing is read or spent for a foreign page), then the type, then the body.
  if (!origin.own) return { status: 403, code: 'forbidden_origin' };
  if (!type.json) return { status: 415, code: 'unsupported_media_type' };
  if (bytes.length > MAX_BODY) return { status: 413, code: 'payload_too_large' };
  const parsed = parsePostBody(bytes.toString('utf8'), 'lobby');
  if (!parsed.ok) return { status: 400, code: parsed.error.code };
  const hello = decodeClientValue({
    type: 'hello',
    payload: {
      user_name: parsed.username,
      ...(parsed.password !== undefined ? { password: parsed.password } : {}),
    },
  });
  if (!hello.ok) return { status: 400, code: hello.error.code };
  const message = decodeClientValue({
    type: 'message',
    payload: { room_id: parsed.room, message: parsed.content },
  });
  if (!message.ok) return { status: 400, code: message.error.code };
  if (!rooms(parsed.room)) return { status: 404, code: 'no_such_room' };
  return { status: 201 };
}

let server: RunningServer;
const logged: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  // No message rate limit: 100k posts from one address are the point here, not the limiter.
  server = await startTestServer({
    logger,
    rateLimit: false,
  });
});

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

/** POSTs one body; resolves with the status and parsed JSON, or with the socket error. */
function post({
  bytes,
  type,
  origin,
}: PostRequest): Promise<{ status: number; json: Record<string, unknown> } | { error: string }> {
  const headers: Record<string, string | number> = { 'Content-Length': bytes.length };
  if (type.value !== undefined) headers['Content-Type'] = type.value;
  if (origin.origin) headers.Origin = origin.origin(server.port);
  if (origin.host) headers.Host = origin.host(server.port);
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: '/post', method: 'POST', agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            json = { unparsable: Buffer.concat(chunks).toString('utf8').slice(0, 100) };
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      },
    );
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(bytes);
  });
}

it(
  'answers 100,000 hostile POST bodies with exactly the predicted status, never a 5xx',
  { timeout: 600_000 },
  async () => {
    const started = performance.now();
    let sent = 0;
    const statuses = new Map<string, number>();
    const mismatches: string[] = [];
    const resets: string[] = [];
    const rooms = (id: string): boolean => server.hub.room(id) !== undefined;

    await fc.assert(
      fc.asyncProperty(fc.array(postRequest, { minLength: BATCH, maxLength: BATCH }), async (bodies) => {
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < bodies.length) {
            const one = bodies[next++]!;
            const bytes = one.bytes;
            const want = predict(one, rooms);
            const got = await post(one);
            sent++;
            if ('error' in got) {
              // A body refused at 413 is answered and its connection closed; the client may see that
              // close while still sending. So may one refused at 403/415 before it was read, if it
              // is too big for the server to drain. Nothing else may end in a socket error.
              const unread = want.status === 403 || want.status === 415;
              if (want.status === 413 || (unread && bytes.length > MAX_BODY)) resets.push(got.error);
              else
                mismatches.push(
                  `socket error ${got.error} for ${JSON.stringify(bytes.subarray(0, 80).toString('utf8'))}`,
                );
              continue;
            }
            const key = `${got.status}${got.json.error ? ` ${String(got.json.error)}` : ''}`;
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
            const ok =
              got.status === want.status &&
              (want.code === undefined || got.json.error === want.code) &&
              (got.status !== 201 || typeof got.json.seq === 'number');
            if (!ok)
              mismatches.push(
                `want ${want.status} ${want.code ?? ''}, got ${key} ${JSON.stringify(got.json).slice(0, 120)} for type=${JSON.stringify(one.type.value)} origin=${one.origin.label} ${JSON.stringify(bytes.subarray(0, 80).toString('utf8'))}`,
              );
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        return mismatches.length === 0;
      }),
      {
        numRuns: RUNS,
        endOnFailure: process.env.FUZZ_SHRINK === undefined,
        ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
      },
    );

    const seconds = (performance.now() - started) / 1000;
    const fiveHundreds = [...statuses].filter(([k]) => k.startsWith('5')).reduce((a, [, n]) => a + n, 0);
    console.log(
      `fuzz post: ${sent} bodies in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)}/s, ${CONCURRENCY} in flight, keep-alive), 0 crashes, ` +
        `${sent - mismatches.length} answered as predicted, ${mismatches.length} not, ${resets.length} 413/403/415s seen as a closed socket, ${fiveHundreds} 5xx\n` +
        `  statuses: ${[...statuses]
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k}=${n}`)
          .join(' ')}`,
    );
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(BODIES);
    expect(fiveHundreds).toBe(0);
    expect(logged.slice(0, 5)).toEqual([]);
    expect(server.hub.snapshot().connections.http).toBe(0);
    await expectStillChats(server.url);
  },
);
