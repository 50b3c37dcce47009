/**
 * Known bug, pinned (found by the robustness battery; see the issue 6 report): the slow-consumer
 * cap counts the replies a client asked for, queued in one turn. A client that reads promptly is
 * cut as `slow_consumer` when one request's answer is bigger than the cap:
 * - `join` with `since_seq` after a gap of ~20,000 ordinary messages (replay pages of 500 are all
 *   queued at once: ~3 MB), which is exactly what a client cut as a slow consumer is told to do,
 *   so it can never catch up;
 * - `history` with `limit: 200` in a room of long messages (one 3 MB frame).
 * These tests use `it.fails`: they pass while the bug is there. Whoever fixes it (flow-controlled
 * replay, or replies charged differently than broadcasts) turns them into plain `it`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { TestClient } from '../helpers/ws-client.js';

let server: RunningServer;
const clients: TestClient[] = [];

async function client(nick: string): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  await c.hello(nick);
  return c;
}

/**
 * Sends `n` messages, `window` in flight at a time, and waits for the last acknowledgement. The
 * window keeps one turn's acknowledgements under the cap: the writer would be cut otherwise.
 */
async function fill(writer: TestClient, room: string, n: number, window: number, text: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i += window) {
    for (let k = i; k < Math.min(n, i + window); k++) writer.send('message', { room_id: room, message: text(k) }, `${room}${k}`);
    await writer.next((m) => m.ref === `${room}${Math.min(n, i + window) - 1}`, 30_000);
    writer.received.length = 0; // keep the test process small
  }
}

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, memory: true, logLevel: 'silent', rateLimit: false, monitorIntervalMs: 0, retainPerRoom: 50_000 });
  const writer = await client('writer');
  await writer.request('join', { room_id: 'many' });
  await writer.request('join', { room_id: 'long' });
  await fill(writer, 'many', 20_000, 500, (i) => `ordinary message number ${i}, about eighty characters of everyday chat text.`);
  await fill(writer, 'long', 200, 20, () => '😀'.repeat(4000));
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
});

const isCut = (c: TestClient): boolean => c.closed;

it.fails('a client resuming with since_seq after a 20,000-message gap is not cut as a slow consumer', async () => {
  const reader = await client('resumer');
  const before = server.hub.counters.slowConsumers;
  reader.send('join', { room_id: 'many', since_seq: 0 }, 'j');
  await Promise.race([reader.next((m: ServerMessage) => m.type === 'history' && !m.payload.has_more, 15_000), reader.closedByServer(15_000)]);
  const pages = reader.received.filter((m) => m.type === 'history');
  const got = pages.reduce((n, m) => n + (m.type === 'history' ? m.payload.messages.length : 0), 0);
  console.log(`resume after cut (known bug): since_seq replay of 20,000 messages: ${got} received, cut=${isCut(reader)}, slow-consumer cuts +${server.hub.counters.slowConsumers - before}`);
  expect(got).toBe(20_000);
  expect(isCut(reader)).toBe(false);
});

it.fails('a client asking for 200 long messages of history is not cut as a slow consumer', async () => {
  const reader = await client('historian');
  await reader.request('join', { room_id: 'long' });
  const before = server.hub.counters.slowConsumers;
  const page = await reader.request('history', { room_id: 'long', limit: 200 }).catch(() => undefined);
  const n = page?.type === 'history' ? page.payload.messages.length : 0;
  // Still connected? A ping answers, or the close arrives.
  await Promise.race([reader.request('ping', null), reader.closedByServer(5_000)]).catch(() => undefined);
  console.log(`resume after cut (known bug): history limit 200 of 4,000-emoji messages: ${n} received, cut=${isCut(reader)}, slow-consumer cuts +${server.hub.counters.slowConsumers - before}`);
  expect(n).toBe(200);
  expect(isCut(reader)).toBe(false);
});
