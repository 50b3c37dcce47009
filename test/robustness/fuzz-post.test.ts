/**
 * Issue 6, fuzz: at least 100,000 hostile `POST /post` bodies over keep-alive connections, 32
 * in flight: valid posts, posts with a field of the wrong type or a hostile value, broken and
 * non-object JSON, random bytes, oversized bodies. The post route's own pure parser and the
 * codec predict each status and error code (201 with the stored message, 400 with the codec's
 * code, 404 for an unknown room, 413 past 64 KiB); every request must get exactly that answer,
 * never a 5xx, and a normal client still chats afterwards.
 */
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeClientValue } from '../../src/protocol/codec.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { parsePostBody } from '../../src/server/transports/post.js';
import { expectStillChats } from './chat-check.js';
import { hostileValue, nastyString } from './fuzz-frames.js';

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
const room = fc.oneof({ arbitrary: fc.constantFrom('lobby', 'nosuchroom', 'bad room', '', '#lobby'), weight: 3 }, { arbitrary: nastyString, weight: 1 });
const validBody = fc
  .record({ username, content, room: fc.option(room, { nil: undefined, freq: 3 }), password: fc.option(fc.string({ maxLength: 300 }), { nil: undefined, freq: 20 }) })
  .map((b) => JSON.stringify(b));
const mutatedBody = fc
  .tuple(fc.record({ username, content, room: fc.option(room, { nil: undefined }) }), fc.constantFrom('username', 'content', 'room', 'password', 'extra', '__proto__'), hostileValue)
  .map(([b, field, value]) => JSON.stringify({ ...b, [field]: value }));
const brokenBody = fc.oneof(
  fc.constantFrom('', ' ', 'null', '[]', '"x"', '1', '{}', '{"username":"a"}', '{"content":"a"}', '{"username":"a","content":"b"', "{'username':'a','content':'b'}", '\ufeff{"username":"a","content":"b"}'),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);
const rawBytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const bigBody = fc.constantFrom(MAX_BODY - 100, MAX_BODY + 1, 100_000).map((n) => JSON.stringify({ username: 'big', content: 'x'.repeat(n) }));

/** One body as the bytes sent, labelled briefly for counterexamples. */
const body: fc.Arbitrary<Buffer> = fc
  .oneof(
    { arbitrary: validBody.map((t) => Buffer.from(t)), weight: 10 },
    { arbitrary: mutatedBody.map((t) => Buffer.from(t)), weight: 6 },
    { arbitrary: brokenBody.map((t) => Buffer.from(t)), weight: 3 },
    { arbitrary: rawBytes, weight: 2 },
    { arbitrary: bigBody.map((t) => Buffer.from(t)), weight: 1 },
  )
  .map((b) => Object.assign(b, { [fc.toStringMethod]: () => `body(${b.length} bytes: ${JSON.stringify(b.subarray(0, 60).toString('utf8'))})` }));

/** What the route must answer: status and, for errors, the code. */
function predict(bytes: Buffer, rooms: (id: string) => boolean): { status: number; code?: string } {
  if (bytes.length > MAX_BODY) return { status: 413, code: 'payload_too_large' };
  const parsed = parsePostBody(bytes.toString('utf8'), 'lobby');
  if (!parsed.ok) return { status: 400, code: parsed.error.code };
  const hello = decodeClientValue({ type: 'hello', payload: { user_name: parsed.username, ...(parsed.password !== undefined ? { password: parsed.password } : {}) } });
  if (!hello.ok) return { status: 400, code: hello.error.code };
  const message = decodeClientValue({ type: 'message', payload: { room_id: parsed.room, message: parsed.content } });
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
  server = await startServer({ host: '127.0.0.1', port: 0, memory: true, logger, rateLimit: false, monitorIntervalMs: 0 });
});

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

/** POSTs one body; resolves with the status and parsed JSON, or with the socket error. */
function post(bytes: Buffer): Promise<{ status: number; json: Record<string, unknown> } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: '/post', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length } },
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

it('answers 100,000 hostile POST bodies with exactly the predicted status, never a 5xx', { timeout: 600_000 }, async () => {
  const started = performance.now();
  let sent = 0;
  const statuses = new Map<string, number>();
  const mismatches: string[] = [];
  const resets: string[] = [];
  const rooms = (id: string): boolean => server.hub.room(id) !== undefined;

  await fc.assert(
    fc.asyncProperty(fc.array(body, { minLength: BATCH, maxLength: BATCH }), async (bodies) => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < bodies.length) {
          const bytes = bodies[next++]!;
          const want = predict(bytes, rooms);
          const got = await post(bytes);
          sent++;
          if ('error' in got) {
            // A body refused at 413 is answered and its connection closed; the client may see that
            // close while still sending. Nothing else may end in a socket error.
            if (want.status === 413) resets.push(got.error);
            else mismatches.push(`socket error ${got.error} for ${JSON.stringify(bytes.subarray(0, 80).toString('utf8'))}`);
            continue;
          }
          const key = `${got.status}${got.json.error ? ` ${String(got.json.error)}` : ''}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          const ok = got.status === want.status && (want.code === undefined || got.json.error === want.code) && (got.status !== 201 || typeof got.json.seq === 'number');
          if (!ok) mismatches.push(`want ${want.status} ${want.code ?? ''}, got ${key} ${JSON.stringify(got.json).slice(0, 120)} for ${JSON.stringify(bytes.subarray(0, 80).toString('utf8'))}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return mismatches.length === 0;
    }),
    { numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK === undefined, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
  );

  const seconds = (performance.now() - started) / 1000;
  const fiveHundreds = [...statuses].filter(([k]) => k.startsWith('5')).reduce((a, [, n]) => a + n, 0);
  console.log(
    `fuzz post: ${sent} bodies in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)}/s, ${CONCURRENCY} in flight, keep-alive), 0 crashes, ` +
      `${sent - mismatches.length} answered as predicted, ${mismatches.length} not, ${resets.length} 413s seen as a closed socket, ${fiveHundreds} 5xx\n` +
      `  statuses: ${[...statuses].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(' ')}`,
  );
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(sent).toBeGreaterThanOrEqual(BODIES);
  expect(fiveHundreds).toBe(0);
  expect(logged.slice(0, 5)).toEqual([]);
  expect(server.hub.snapshot().connections.http).toBe(0);
  await expectStillChats(server.url);
});
