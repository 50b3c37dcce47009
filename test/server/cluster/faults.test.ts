import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/protocol/events.js';
import type { EngineState, EpochChange } from '../../../src/server/cluster/engine.js';
import { ClusterUnavailableError, EpochChangedError } from '../../../src/server/cluster/errors.js';
import { RedisEngine, type RedisEngineOptions } from '../../../src/server/cluster/redis-engine.js';
import { useRedisNodes } from '../../helpers/redis-nodes.js';

const cluster = useRedisNodes();
const node = (nodeId: string, options: Partial<RedisEngineOptions> = {}) => cluster.node(nodeId, options);

const draft = (text: string, clientMsgId?: string) => ({
  senderKey: 'alice',
  userName: 'Alice',
  text,
  ...(clientMsgId ? { clientMsgId } : {}),
});

function nextState(engine: RedisEngine, state: EngineState): Promise<void> {
  return new Promise((resolve) => {
    const on = (s: EngineState) => {
      if (s !== state) return;
      engine.off('state', on);
      resolve();
    };
    engine.on('state', on);
  });
}

/** A feed that records what it delivered. */
async function recordFeed(engine: RedisEngine, room: string) {
  const delivered: ChatMessage[] = [];
  const gaps: [number, number][] = [];
  const handle = await engine.feed(room, {
    messages: (ms) => delivered.push(...ms),
    gap: (a, b) => gaps.push([a, b]),
  });
  return { handle, delivered, gaps };
}

async function createRoom(engine: RedisEngine, id: string): Promise<void> {
  expect(await engine.createRoom({ room_id: id, room_name: id, created_by: 'Alice', created_ts: 1 }, 0)).toBe(
    'created',
  );
}

describe('Redis unreachable', () => {
  it('refuses to open with a clear error when nothing listens', async () => {
    const err = await RedisEngine.open({ url: `${cluster.redis.dir}/nothing-here.sock`, nodeId: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect((err as Error).message).toMatch(/cannot reach Redis at unix:.*nothing-here\.sock/);
  });

  it('fails calls at once while Redis is down, buffers nothing, and carries on once it is back', async () => {
    const a = await node('a');
    await createRoom(a, 'r');
    await a.commit('r', [draft('before')]);
    const down = nextState(a, 'down');
    await cluster.redis.kill();
    await down;
    expect(a.state).toBe('down');
    const err = await a.commit('r', [draft('during', 'c1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err).toMatchObject({ code: 'unavailable', maybeApplied: false });
    expect((err as Error).message).toMatch(/Redis is unavailable/);
    await expect(a.since('r', 0, 10)).rejects.toBeInstanceOf(ClusterUnavailableError);
    await expect(a.claimNick('bob', { session: 's', nick: 'bob', tokenHash: 'h' })).rejects.toBeInstanceOf(
      ClusterUnavailableError,
    );
    const up = nextState(a, 'up');
    await cluster.redis.restart();
    await up;
    // Nothing that failed was stored later behind the client's back.
    expect((await a.since('r', 0, 10)).map((m) => m.message)).toEqual(['before']);
    const [out] = await a.commit('r', [draft('after', 'c1')]);
    expect(out).toMatchObject({ duplicate: false, message: { seq: 2, message: 'after' } });
  });

  it('a command that timed out may have run: it is never re-sent, and a retry with the same client_msg_id settles it', async () => {
    const a = await node('a', { commandTimeoutMs: 300 });
    await createRoom(a, 'r');
    const admin = cluster.redis.admin();
    await admin.call('CLIENT', 'PAUSE', '5000', 'WRITE');
    const err = await a.commit('r', [draft('paused', 'c1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err).toMatchObject({ maybeApplied: true });
    expect((err as Error).message).toMatch(/did not answer in time/);
    await admin.call('CLIENT', 'UNPAUSE');
    // The held commit ran once the pause ended; the client's retry finds it.
    const [retry] = await a.commit('r', [draft('paused', 'c1')]);
    expect(retry).toMatchObject({
      duplicate: true,
      seq: 1,
      message: { message: 'paused', client_msg_id: 'c1' },
    });
    expect(await a.since('r', 0, 10)).toHaveLength(1);
  });
});

describe('Redis restarts', () => {
  it('restarted on its data (SIGKILL): acknowledged commits are kept, seqs continue, feeds catch up', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await createRoom(a, 'r');
    const feed = await recordFeed(b, 'r');
    const acked: ChatMessage[] = [];
    for (let i = 0; i < 50; i++) {
      const [out] = await a.commit('r', [draft(`m${i}`, `c${i}`)]);
      if (out && !out.duplicate) acked.push(out.message);
    }
    await feed.handle.reached(50);
    const back = Promise.all([nextState(a, 'up'), nextState(b, 'up')]);
    await cluster.redis.kill();
    await cluster.redis.restart();
    await back;
    expect(await b.since('r', 0, 100)).toEqual(acked);
    const [next] = await b.commit('r', [draft('after restart')]);
    expect(next).toMatchObject({ duplicate: false, message: { seq: 51 } });
    // A retry of an acknowledged message is still known after the restart.
    const [retry] = await b.commit('r', [draft('m7', 'c7')]);
    expect(retry).toMatchObject({ duplicate: true, seq: 8 });
    await feed.handle.reached(51);
    expect(feed.delivered.map((m) => m.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(feed.gaps).toEqual([]);
  });

  it('SIGKILL during writes from two nodes: every acknowledged commit kept at its seq, retries settle the rest, each stored once', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await createRoom(a, 'r');
    const acked = new Map<string, number>();
    const unsure = new Set<string>();
    let killed = false;
    let halfway!: () => void;
    const reachedHalfway = new Promise<void>((r) => (halfway = r));
    const writer = async (e: RedisEngine, w: number) => {
      for (let i = 0; i < 400; i++) {
        const id = `${e.nodeId}${w}-${i}`;
        try {
          const [out] = await e.commit('r', [draft(id, id)]);
          if (out && !out.duplicate) acked.set(id, out.message.seq);
          if (acked.size === 200) halfway();
        } catch (err) {
          expect(err).toBeInstanceOf(ClusterUnavailableError);
          unsure.add(id);
          if (killed) return; // Redis is down: stop; the rest are simply never sent
        }
      }
    };
    const writers = [a, b].flatMap((e) => [0, 1].map((w) => writer(e, w)));
    // Kill Redis once some commits went through, with more in flight.
    await reachedHalfway;
    killed = true;
    await cluster.redis.kill();
    await Promise.all(writers);
    expect(unsure.size).toBeGreaterThan(0);
    const back = Promise.all([nextState(a, 'up'), nextState(b, 'up')]);
    await cluster.redis.restart();
    await back;
    // The clients retry whatever was not acknowledged, with the same client_msg_id, via the other node.
    for (const id of unsure) {
      const [out] = await (id.startsWith('a') ? b : a).commit('r', [draft(id, id)]);
      if (out && !out.duplicate) acked.set(id, out.message.seq);
      else if (out?.duplicate) acked.set(id, out.seq);
    }
    const stored = await a.since('r', 0, 10_000);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.client_msg_id)).size).toBe(stored.length);
    expect(stored.length).toBe(acked.size);
    for (const m of stored) expect(acked.get(m.client_msg_id!)).toBe(m.seq);
  });

  it('restarted empty: every node detects it, adopts one new epoch, and never reuses a seq', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await createRoom(a, 'r');
    for (let i = 0; i < 20; i++) await a.commit('r', [draft(`m${i}`)]);
    const oldEpoch = a.epoch;
    const before = Date.now();
    const changes = Promise.all([a, b].map((e) => new Promise<EpochChange>((r) => e.once('epoch', r))));
    await cluster.redis.restart({ empty: true });
    const [ca, cb] = await changes;
    expect(ca!.previous).toBe(oldEpoch);
    expect(ca!.current).not.toBe(oldEpoch);
    expect(cb!.current).toBe(ca!.current);
    expect(ca!.base).toBeGreaterThanOrEqual(before * 1000);
    expect(a.epoch).toBe(b.epoch);
    // The room went with the data. Created again it starts above every earlier seq.
    expect(await b.getRoom('r')).toBeUndefined();
    await createRoom(b, 'r');
    const [out] = await a.commit('r', [draft('new era')]);
    expect(out).toMatchObject({ duplicate: false, message: { seq: ca!.base + 1 } });
    expect(ca!.base + 1).toBeGreaterThan(20);
  });

  it('a node that missed the restart is refused with EpochChangedError rather than writing under the old epoch', async () => {
    const a = await node('a');
    await createRoom(a, 'r');
    // Another node recreated everything after a data loss this node did not see (its link stayed up).
    await cluster.redis.admin().flushall();
    const other = await node('b');
    await createRoom(other, 'r');
    const err = await a.commit('r', [draft('x')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochChangedError);
    expect(a.epoch).toBe(other.epoch);
  });
});
