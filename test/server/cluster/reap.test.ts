import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { FeedNotice } from '../../../src/server/cluster/engine.js';
import { keys } from '../../../src/server/cluster/keys.js';
import { NodeLeases } from '../../../src/server/cluster/leases.js';
import type { RedisEngine } from '../../../src/server/cluster/redis-engine.js';
import { useRedisNodes } from '../../helpers/redis-nodes.js';
import { until } from '../../helpers/wait.js';

// Reaping a dead node in slices, on a real redis-server: every user_left once, every nick freed,
// no script touching more than a slice, and a reap whose reaper died continued by another node.

const cluster = useRedisNodes();
const ROOMS = ['lobby', 'den'];
const SESSIONS = 60;

/**
 * Node `id` with SESSIONS sessions, each holding a nick and present in every room, then dead: it
 * kept no lease (no NodeLeases, so closing it reaps nothing) and is named in `chat:nodes`, which
 * is what a killed node leaves once its lease expired.
 */
async function deadNode(id: string): Promise<void> {
  const a = await cluster.node(id);
  for (let i = 0; i < SESSIONS; i++) {
    expect(await a.claimNick(`u${i}`, { session: `s${i}`, nick: `U${i}`, tokenHash: 'h' })).toEqual({
      result: 'ok',
    });
    for (const room of ROOMS) expect(await a.joinPresence(room, `s${i}`, `U${i}`, 0)).toBe('joined');
  }
  await cluster.redis.admin().sadd(keys.nodes, id);
}

/** Every presence notice `engine` hears in ROOMS (it feeds them). */
async function listen(engine: RedisEngine): Promise<FeedNotice[]> {
  const heard: FeedNotice[] = [];
  for (const room of ROOMS) await engine.feed(room, { messages: () => {}, notice: (n) => heard.push(n) });
  return heard;
}

const left = (heard: FeedNotice[]): string[] =>
  heard
    .filter((n) => n.type === 'user_left')
    .map((n) => `${String(n.payload.room_id)}/${String(n.payload.user_name)}/${String(n.payload.reason)}`)
    .sort();
const everyLeave = ROOMS.flatMap((room) =>
  Array.from({ length: SESSIONS }, (_, i) => `${room}/U${i}/node_lost`),
).sort();

async function nodeKeysGone(id: string): Promise<void> {
  const admin = cluster.redis.admin();
  await until(async () => (await admin.sismember(keys.reaping, id)) === 0, 15_000);
  expect(await admin.exists(keys.nodeOwn(id), keys.nodeReap(id))).toBe(0);
  expect(await admin.sismember(keys.nodes, id)).toBe(0);
  for (let i = 0; i < SESSIONS; i++) expect(await admin.get(keys.nick(`u${i}`))).toBeNull();
  // WHO masks no longer list them either.
  const listed = await admin.hmget(keys.online, ...Array.from({ length: SESSIONS }, (_, i) => `u${i}`));
  expect(listed.filter((nick) => nick !== null)).toEqual([]);
  for (const room of ROOMS) expect(await admin.zcard(keys.presence(room))).toBe(0);
  expect(await admin.hgetall(keys.roomCounts)).toEqual({});
}

describe('reaping a dead node', () => {
  it('frees its nicks and presence in slices of at most `reapSlice` entries, each user_left once, while another node keeps renewing', async () => {
    await cluster
      .node('x')
      .then((x) =>
        Promise.all(
          ROOMS.map((r) => x.createRoom({ room_id: r, room_name: r, created_by: 'x', created_ts: 1 }, 0)),
        ),
      );
    await deadNode('a');
    // Every command Redis runs, scripts' own calls included, in the order it ran them.
    const monitor = await new Redis({ path: cluster.redis.socket }).monitor();
    const seen: { source: string; args: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
    try {
      const errors: string[] = [];
      // C and B renew every 100 ms and reap, 7 entries per script call (C may start before B).
      const c = await cluster.node('c', {
        leaseMs: 500,
        reapSlice: 7,
        onError: (_e, context) => errors.push(context),
      });
      const heard = await listen(c);
      // Another client pings Redis over and over meanwhile (a node's renewals and commits).
      const pinger = new Redis({ path: cluster.redis.socket });
      let pinging = true;
      const pings = (async () => {
        while (pinging) await pinger.ping();
      })();
      await cluster.node('b', { leaseMs: 500, reapSlice: 7 });
      await until(() => heard.filter((n) => n.type === 'user_left').length >= 2 * SESSIONS, 15_000);
      pinging = false;
      await pings;
      pinger.disconnect();
      // Each user_left once, with the reason; none missing.
      expect(left(heard)).toEqual(everyLeave);
      expect(errors).toEqual([]);

      // Group the scripts' calls under the command that ran them: no reap call published more
      // than a slice of user_left, and the reap took many calls.
      const calls: string[][][] = [];
      for (const { source, args } of seen) {
        if (source === 'lua') calls.at(-1)?.push(args);
        else calls.push([args]);
      }
      const reapCalls = calls.filter((call) =>
        call.some((args) => args[0]?.toLowerCase() === 'publish' && args[2]?.includes('node_lost')),
      );
      const isPublish = (args: string[]): boolean => args[0]?.toLowerCase() === 'publish';
      const published = reapCalls.map(
        (call) => call.filter((args) => isPublish(args) && args[2]?.includes('node_lost')).length,
      );
      expect(published.reduce((a, b) => a + b, 0)).toBe(2 * SESSIONS);
      // A slice publishes one message per entry at most: a user_left, or a nick's going (MONITOR).
      const slices = calls.filter((call) =>
        call.some((args) => isPublish(args) && /node_lost|"online":false/.test(args[2] ?? '')),
      );
      expect(Math.max(...slices.map((call) => call.filter(isPublish).length))).toBeLessThanOrEqual(7);
      expect(reapCalls.length).toBeGreaterThanOrEqual(Math.ceil((2 * SESSIONS) / 7));
      // Redis served others between the slices: the pinger's commands ran inside the reap.
      const first = calls.indexOf(reapCalls[0]!);
      const last = calls.indexOf(reapCalls.at(-1)!);
      const between = calls.slice(first, last).filter((call) => call[0]?.[0]?.toLowerCase() === 'ping');
      expect(between.length).toBeGreaterThan(0);
      await nodeKeysGone('a');
    } finally {
      monitor.disconnect();
    }
  }, 30_000);

  it('a reap whose reaper died between slices is continued by another node: every user_left once, every nick freed', async () => {
    const x = await cluster.node('x');
    for (const r of ROOMS)
      await x.createRoom({ room_id: r, room_name: r, created_by: 'x', created_ts: 1 }, 0);
    await deadNode('a');
    const c = await cluster.node('c');
    const heard = await listen(c);

    // Reaper R begins and gets two slices of 10 done, then dies (its link closes, nothing more).
    const link = new Redis({ path: cluster.redis.socket });
    const r = new NodeLeases(
      link,
      'r',
      10_000,
      () => {},
      () => {},
      10,
    );
    const rest = await r.reap('a', true, 2);
    link.disconnect();
    expect(rest).toBe(3 * SESSIONS - 20);
    const admin = cluster.redis.admin();
    expect(await admin.sismember(keys.reaping, 'a')).toBe(1);
    expect(await admin.sismember(keys.nodes, 'a')).toBe(0);

    // Node B's first tick finds the reap in progress and finishes it.
    await cluster.node('b', { leaseMs: 500, reapSlice: 10 });
    await until(() => heard.filter((n) => n.type === 'user_left').length >= 2 * SESSIONS, 15_000);
    await nodeKeysGone('a');
    expect(left(heard)).toEqual(everyLeave);
  }, 30_000);

  it('a node id used again by a new process: what the old one left is reaped before the new one serves, so equal session ids never mix', async () => {
    const x = await cluster.node('x');
    for (const r of ROOMS)
      await x.createRoom({ room_id: r, room_name: r, created_by: 'x', created_ts: 1 }, 0);
    await deadNode('a');
    const c = await cluster.node('c');
    const heard = await listen(c);
    // A new process under the same id, before anyone reaped the old one (its session ids start
    // at s0 again).
    const again = await cluster.node('a', { leaseMs: 10_000, reapSlice: 16 });
    await until(() => heard.filter((n) => n.type === 'user_left').length >= 2 * SESSIONS);
    expect(left(heard)).toEqual(everyLeave);
    expect(await again.claimNick('u0', { session: 's0', nick: 'U0', tokenHash: 'new' })).toEqual({
      result: 'ok',
    });
    expect(await again.joinPresence('lobby', 's0', 'U0', 0)).toBe('joined');
    expect(await c.members('lobby')).toEqual([{ node: 'a', session: 's0', nick: 'U0' }]);
  }, 30_000);

  it('a node that comes back while it is being reaped is told it lapsed, and what it claims from then on is never reaped', async () => {
    const x = await cluster.node('x');
    for (const r of ROOMS)
      await x.createRoom({ room_id: r, room_name: r, created_by: 'x', created_ts: 1 }, 0);
    // A live node whose lease then lapsed (as if paused): its lease key is gone.
    const a = await cluster.node('a', { leaseMs: 1_000 });
    for (let i = 0; i < SESSIONS; i++) {
      await a.claimNick(`u${i}`, { session: `s${i}`, nick: `U${i}`, tokenHash: 'h' });
      for (const room of ROOMS) await a.joinPresence(room, `s${i}`, `U${i}`, 0);
    }
    const lapsed = new Promise<void>((resolve) => a.once('lapsed', resolve));
    const c = await cluster.node('c');
    const heard = await listen(c);
    const admin = cluster.redis.admin();
    await admin.del(keys.nodeLease('a'));
    const link = new Redis({ path: cluster.redis.socket });
    const r = new NodeLeases(
      link,
      'r',
      10_000,
      () => {},
      () => {},
      10,
    );
    expect(await r.reap('a', true, 1)).toBe(3 * SESSIONS - 10);
    // A renews (every 200 ms): its lease was gone and it is no longer in chat:nodes.
    await lapsed;
    // What it claims now, under a new session id, is its own again.
    expect(await a.claimNick('zed', { session: 'new1', nick: 'Zed', tokenHash: 'z' })).toEqual({
      result: 'ok',
    });
    expect(await a.joinPresence('lobby', 'new1', 'Zed', 0)).toBe('joined');
    // R carries on to the end.
    expect(await r.reap('a', false)).toBe(0);
    link.disconnect();
    await until(() => heard.filter((n) => n.type === 'user_left').length >= 2 * SESSIONS);
    expect(left(heard)).toEqual(everyLeave);
    expect(await admin.get(keys.nick('zed'))).toMatch(/^a\|new1\|/);
    expect(await c.members('lobby')).toEqual([{ node: 'a', session: 'new1', nick: 'Zed' }]);
    expect(await admin.smembers(keys.nodeOwn('a'))).toEqual(
      expect.arrayContaining(['n:zed\0new1', 'p:lobby\0a:new1']),
    );
  }, 30_000);
});
