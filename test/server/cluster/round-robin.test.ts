/**
 * Issue 13: a round-robin load balancer without stickiness in front of two `--redis` nodes, and
 * the real client link (src/client/server-link.ts: it re-identifies with its resume token,
 * rejoins with `since_seq` = the last seq it saw, and resends unacknowledged messages with
 * their `client_msg_id`). Every link is cut again and again, so each reconnect lands on the
 * other node: nothing may be lost, duplicated or reordered, in what is stored or in what each
 * client is shown.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createConnection, type WsChatConnection } from '../../../src/client/server-link.js';
import type { ChatMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/index.js';
import { startTestServer } from '../../helpers/test-server.js';
import { startRedis, type RedisProcess } from '../../helpers/redis-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../helpers/round-robin-proxy.js';
import { until } from '../../helpers/wait.js';
import { TestClient } from '../../helpers/ws-client.js';

let redis: RedisProcess;
const servers: RunningServer[] = [];
let proxy: RoundRobinProxy | undefined;
const links: WsChatConnection[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin().flushall();
});
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await proxy?.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The real client link through the balancer, recording what it is shown in `room`. */
function member(nick: string, room: string) {
  const conn = createConnection({
    url: `ws://127.0.0.1:${proxy!.port}/ws`,
    nick,
    pingIntervalMs: 100,
    backoff: { baseMs: 10, maxMs: 50 },
  });
  links.push(conn);
  /** Messages as they arrive, in order, each one beyond the last seq seen (what the screen gets). */
  const shown: ChatMessage[] = [];
  /**
   * Messages at or below the last seq seen: only allowed as the acknowledgement (with its ref)
   * of the client's own retry of a message already stored, carrying the stored copy.
   */
  const again: { message: ChatMessage; ref: unknown }[] = [];
  let connected = 0;
  const take = (m: ChatMessage, ref: unknown): void => {
    if (m.seq > (shown.at(-1)?.seq ?? 0)) shown.push(m);
    else again.push({ message: m, ref });
  };
  conn.subscribe((s) => {
    if (s.kind === 'status' && s.status.state === 'connected') connected++;
    if (s.kind !== 'event') return;
    const e = s.event;
    if (e.type === 'message' && e.payload.room_id === room) take(e.payload, e.ref);
    if (e.type === 'history' && e.payload.room_id === room)
      for (const m of e.payload.messages) take(m, undefined);
  });
  conn.start();
  conn.identify(nick);
  conn.joinRoom(room);
  return { conn, shown, again, connections: () => connected };
}

it('two clients cut every few messages reconnect through a round-robin balancer to the other node: every message stored once, each shown once and in order', async () => {
  for (const id of ['n0', 'n1']) {
    servers.push(await startTestServer({ redis: redis.url, nodeId: id, rateLimit: false }));
  }
  proxy = await startRoundRobinProxy(servers.map((s) => s.port));
  const ROOM = 'rr';
  const EACH = 120;
  const alice = member('alice', ROOM);
  const bob = member('bob', ROOM);
  await until(() => alice.connections() > 0 && bob.connections() > 0);

  const total = 2 * EACH;
  for (let i = 1; i <= EACH; i++) {
    alice.conn.sendMessage(ROOM, `alice ${i}`);
    bob.conn.sendMessage(ROOM, `bob ${i}`);
    if (i % 15 === 0) {
      // Wait until the link has moved on a little, then cut both: they come back elsewhere.
      const seen = alice.shown.length;
      await until(() => alice.shown.length > seen || alice.shown.length >= 2 * i, 10_000);
      proxy.dropAll();
    }
  }
  await until(() => alice.shown.length >= total && bob.shown.length >= total, 30_000);

  // Stored: each text once, seqs dense.
  const reader = await TestClient.open(servers[0]!.url);
  await reader.hello('reader');
  await reader.request('join', { room_id: ROOM });
  const page = await reader.request('history', { room_id: ROOM, limit: 200 });
  const older = await reader.request('history', {
    room_id: ROOM,
    limit: 200,
    before_seq: (page.payload as { messages: ChatMessage[] }).messages[0]!.seq,
  });
  reader.close();
  const stored = [
    ...(older.payload as { messages: ChatMessage[] }).messages,
    ...(page.payload as { messages: ChatMessage[] }).messages,
  ];
  const first = stored[0]!.seq;
  expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => first + i));
  const texts = stored.map((m) => m.message);
  expect(new Set(texts).size).toBe(total);
  for (const who of ['alice', 'bob']) {
    const own = texts.filter((t) => t.startsWith(`${who} `));
    // Each sender's own messages in the order it sent them.
    expect(own).toEqual(Array.from({ length: EACH }, (_, i) => `${who} ${i + 1}`));
  }

  // Shown: exactly the stored sequence, once each, in seq order, to both (replays and live alike).
  const bySeq = new Map(stored.map((m) => [m.seq, m]));
  for (const [c, nick] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    expect(c.shown.map((m) => m.seq)).toEqual(stored.map((m) => m.seq));
    expect(c.shown.map((m) => m.message)).toEqual(texts);
    // Anything older that came again is an acknowledgement of the client's own retry, the stored copy.
    for (const { message, ref } of c.again) {
      expect(ref).toBeDefined();
      expect(message.user_name).toBe(nick);
      expect(message).toEqual(bySeq.get(message.seq));
    }
  }
  // The balancer really moved them between nodes.
  expect(alice.connections() + bob.connections()).toBeGreaterThanOrEqual(2 * (EACH / 15));
  expect([...proxy.perTarget.values()].every((n) => n >= EACH / 15)).toBe(true);
}, 90_000);
