/**
 * Replies bigger than the slow-consumer cap (1 MiB) must not cut a client that reads promptly,
 * least of all the one a slow-consumer cut tells to resume (found by the robustness battery,
 * issue 6 report; pinned with `it.fails` until the fix):
 * - `join` with `since_seq` after a gap of 20,000 ordinary messages (~3 MB of replay) is sent a
 *   page at a time as the socket drains: every message once, in order, and no cut;
 * - `history` with `limit: 200` in a room of long messages (~3 MB) answers pages of at most
 *   ~256 KiB with `has_more: true`; paging back with `before_seq` gets all 200, and no cut;
 * - messages committed while a replay is held back by a reader that stopped reading reach it
 *   exactly once, in seq order, after what was replayed before them.
 * The peak of the server-side outbound buffer of each reader is measured at every event queued
 * to it (the buffer only grows there) and printed with the counts and times.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatMessage, ServerEventPayloads, ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import type { Outbound } from '../../src/server/outbound.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TestClient } from '../helpers/ws-client.js';

const CAP = 1024 * 1024; // the default --max-queue-bytes
const PAGE_BUDGET = 256 * 1024; // the reply budget under that cap (src/server/session.ts)
const MANY = 20_000;
const LONG = 200;
const BUSY = 1_000; // 4,000-emoji messages: ~16 MB, far more than loopback buffers absorb
const LIVE = 100;

let server: RunningServer;
let writer: TestClient;
const clients: { close(): void }[] = [];

async function client(nick: string): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  await c.hello(nick);
  return c;
}

const ordinary = (i: number): string =>
  `ordinary message number ${i}, about eighty characters of everyday chat text.`;
const emoji = (i: number): string => `${i} ${'😀'.repeat(3990)}`;
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const kib = (bytes: number): string => (bytes / 1024).toFixed(0);

/**
 * Sends `n` messages, `window` in flight at a time, and waits for the last acknowledgement. The
 * window keeps one turn's acknowledgements under the cap: the writer would be cut otherwise.
 */
async function fill(room: string, n: number, window: number, text: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i += window) {
    for (let k = i; k < Math.min(n, i + window); k++)
      writer.send('message', { room_id: room, message: text(k) }, `${room}${k}`);
    await writer.next((m) => m.ref === `${room}${Math.min(n, i + window) - 1}`, 30_000);
    writer.received.length = 0; // keep the test process small
  }
}

/**
 * Watches the server side of a client's connection: the peak of its outbound bytes, taken right
 * after each event is queued, and the moment its first `history` event is queued.
 */
function probe(nick: string): { peak: number; firstHistory: Promise<void> } {
  const session = [...server.hub.allSessions()].find((s) => s.nick === nick);
  if (!session) throw new Error(`no session for ${nick}`);
  let historyQueued!: () => void;
  const watch = { peak: 0, firstHistory: new Promise<void>((resolve) => (historyQueued = resolve)) };
  const deliver = session.deliver.bind(session);
  session.deliver = (out: Outbound): void => {
    deliver(out);
    watch.peak = Math.max(watch.peak, session.conn.bufferedBytes());
    if (out.message.type === 'history') historyQueued();
  };
  return watch;
}

type History = ServerEventPayloads['history'];

function histories(c: TestClient, room: string): History[] {
  return c.received
    .filter((m) => m.type === 'history' && m.payload.room_id === room)
    .map((m) => m.payload as History);
}

/** The room's messages a client got, replayed and live, in arrival order. */
function stream(c: TestClient, room: string): ChatMessage[] {
  return c.received.flatMap((m: ServerMessage) =>
    m.type === 'history' && m.payload.room_id === room
      ? m.payload.messages
      : m.type === 'message' && m.payload.room_id === room
        ? [m.payload]
        : [],
  );
}

beforeAll(async () => {
  server = await startTestServer({
    rateLimit: false,
    retainPerRoom: 50_000,
  });
  writer = await client('writer');
  for (const room of ['many', 'long', 'busy']) await writer.request('join', { room_id: room });
  await fill('many', MANY, 500, ordinary);
  await fill('long', LONG, 20, emoji);
  await fill('busy', BUSY, 20, emoji);
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
});

it('a client resuming with since_seq after a 20,000-message gap gets every message once, in order, and is not cut', async () => {
  const reader = await client('resumer');
  const watch = probe('resumer');
  const cutsBefore = server.hub.counters.slowConsumers;
  const started = performance.now();
  reader.send('join', { room_id: 'many', since_seq: 0 }, 'j');
  await Promise.race([
    reader.next((m) => m.type === 'history' && !m.payload.has_more, 60_000),
    reader.closedByServer(60_000),
  ]);
  const ms = performance.now() - started;
  const pages = histories(reader, 'many');
  const replayed = pages.flatMap((p) => p.messages);
  console.log(
    `resume after cut: since_seq replay of ${MANY} messages: ${replayed.length} received in ${pages.length} pages, ${ms.toFixed(0)} ms, ` +
      `peak buffered ${kib(watch.peak)} KiB (cap ${kib(CAP)} KiB), cut=${reader.closed}, slow-consumer cuts +${server.hub.counters.slowConsumers - cutsBefore}`,
  );
  expect(reader.closed).toBe(false);
  expect(server.hub.counters.slowConsumers).toBe(cutsBefore);
  expect(replayed.map((m) => m.seq)).toEqual(range(1, MANY));
  expect(replayed.every((m) => m.message === ordinary(m.seq - 1))).toBe(true);
  expect(pages.every((p) => p.recovered === true)).toBe(true);
  expect(pages.slice(0, -1).every((p) => p.has_more)).toBe(true);
  expect(watch.peak).toBeLessThan(CAP);

  // Then live: the next message arrives once, as a message event.
  const ack = await writer.request('message', { room_id: 'many', message: 'after the replay' });
  const seq = ack.type === 'message' ? ack.payload.seq : -1;
  await reader.next((m) => m.type === 'message' && m.payload.seq === seq);
  expect(stream(reader, 'many').map((m) => m.seq)).toEqual(range(1, MANY + 1));
}, 90_000);

it('a client asking for 200 long messages of history gets short pages and all 200 by paging, and is not cut', async () => {
  const reader = await client('historian');
  await reader.request('join', { room_id: 'long' });
  const watch = probe('historian');
  const cutsBefore = server.hub.counters.slowConsumers;
  const started = performance.now();
  const got: ChatMessage[] = [];
  const sizes: number[] = [];
  let beforeSeq: number | undefined;
  for (let request = 0; request < LONG; request++) {
    const page = await reader.request('history', {
      room_id: 'long',
      limit: 200,
      ...(beforeSeq !== undefined ? { before_seq: beforeSeq } : {}),
    });
    if (page.type !== 'history') throw new Error(JSON.stringify(page).slice(0, 300));
    sizes.push(Buffer.byteLength(JSON.stringify(page)));
    got.unshift(...page.payload.messages);
    if (!page.payload.has_more) break;
    beforeSeq = page.payload.messages[0]!.seq;
  }
  const ms = performance.now() - started;
  // Still connected? A ping answers.
  const pong = await reader.request('ping', null);
  console.log(
    `resume after cut: history limit ${LONG} of 4,000-emoji messages: ${got.length} received in ${sizes.length} pages ` +
      `(${sizes.map(kib).join(', ')} KiB), ${ms.toFixed(0)} ms, peak buffered ${kib(watch.peak)} KiB, cut=${reader.closed}`,
  );
  expect(pong.type).toBe('pong');
  expect(reader.closed).toBe(false);
  expect(server.hub.counters.slowConsumers).toBe(cutsBefore);
  expect(got.map((m) => m.seq)).toEqual(range(1, LONG));
  expect(got.every((m) => m.message === emoji(m.seq - 1))).toBe(true);
  expect(sizes.length).toBeGreaterThan(1); // the first page was short, with has_more: true
  expect(Math.max(...sizes)).toBeLessThanOrEqual(PAGE_BUDGET + 1024);
  expect(watch.peak).toBeLessThan(CAP);
}, 60_000);

it('messages sent while a replay waits for a reader that stopped reading arrive once, in seq order, after the replayed ones', async () => {
  const reader = await client('latecomer');
  const watch = probe('latecomer');
  const cutsBefore = server.hub.counters.slowConsumers;
  // The reader stops reading before it asks: the ~16 MB replay can only go as far as the kernel
  // buffers take it, then must wait for the socket instead of piling up (or cutting the reader).
  reader.ws.pause();
  reader.send('join', { room_id: 'busy', since_seq: 0 }, 'j');
  await watch.firstHistory;
  const acks = await Promise.all(
    range(1, LIVE).map((i) => writer.request('message', { room_id: 'busy', message: `live ${i}` })),
  );
  const live = acks.map((m) => (m.type === 'message' ? m.payload : undefined));
  // They were committed while the replay was still under way.
  expect(server.hub.room('busy')!.replaying).toBe(1);
  const heldAt = watch.peak;
  const started = performance.now();
  reader.ws.resume();
  const head = BUSY + LIVE;
  await Promise.race([
    reader.next(
      (m) =>
        (m.type === 'history' && m.payload.messages.at(-1)?.seq === head) ||
        (m.type === 'message' && m.payload.seq === head),
      60_000,
    ),
    reader.closedByServer(60_000),
  ]);
  const ms = performance.now() - started;
  const got = stream(reader, 'busy');
  const pages = histories(reader, 'busy');
  console.log(
    `resume after cut: replay of ${BUSY} long messages with ${LIVE} sent during it: ${got.length} received in ${pages.length} pages + ` +
      `${got.length - pages.flatMap((p) => p.messages).length} live, ${ms.toFixed(0)} ms after the reader resumed, ` +
      `peak buffered ${kib(watch.peak)} KiB (${kib(heldAt)} KiB while it did not read), cut=${reader.closed}`,
  );
  expect(reader.closed).toBe(false);
  expect(server.hub.counters.slowConsumers).toBe(cutsBefore);
  expect(got.map((m) => m.seq)).toEqual(range(1, head));
  expect(got.slice(0, BUSY).every((m) => m.message === emoji(m.seq - 1))).toBe(true);
  expect(got.slice(BUSY)).toEqual(live);
  expect(pages.every((p) => p.recovered === true)).toBe(true);
  expect(watch.peak).toBeLessThan(CAP);
  expect(server.hub.room('busy')!.replaying).toBe(0);
}, 120_000);

it('an SSE stream resuming with Last-Event-ID after a 20,000-message gap gets every message once, in order, and is not cut', async () => {
  const head = server.hub.room('many')!.seq;
  const cutsBefore = server.hub.counters.slowConsumers;
  const started = performance.now();
  const sse = await SseTestClient.open(`${server.httpUrl}/stream?room=many`, { 'Last-Event-ID': '0' });
  clients.push(sse);
  await Promise.race([
    sse.waitEvent('message', (e) => e.id?.split('@')[0] === String(head), 60_000),
    sse.waitEnded(60_000),
  ]);
  const ms = performance.now() - started;
  const seqs = sse.messages().map((m) => m.seq);
  console.log(
    `resume after cut: SSE Last-Event-ID replay of ${head} messages: ${seqs.length} received, ${ms.toFixed(0)} ms, ended=${sse.ended}`,
  );
  expect(sse.ended).toBe(false);
  expect(server.hub.counters.slowConsumers).toBe(cutsBefore);
  expect(seqs).toEqual(range(1, head));
  expect(sse.events.some((e) => e.event === 'gap')).toBe(false);
}, 90_000);
