import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/protocol/events.js';
import type { FeedNotice } from '../../../src/server/cluster/engine.js';
import { NoSuchRoomError } from '../../../src/server/cluster/errors.js';
import type { RedisEngine } from '../../../src/server/cluster/redis-engine.js';
import { useRedisNodes } from '../../helpers/redis-nodes.js';

const cluster = useRedisNodes();
const node = (nodeId: string, retain?: number) =>
  cluster.node(nodeId, retain !== undefined ? { retain } : {});

async function setUp(): Promise<[RedisEngine, RedisEngine]> {
  const [a, b] = [await node('a'), await node('b')];
  expect(await a.createRoom({ room_id: 'r', room_name: 'r', created_by: 'Alice', created_ts: 1 }, 0)).toBe(
    'created',
  );
  return [a, b];
}

const send = (engine: RedisEngine, text: string) =>
  engine.commit('r', [{ senderKey: engine.nodeId, userName: engine.nodeId, text }]);
const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('RoomFeed', () => {
  it('starts at the head: earlier messages are history, later ones are delivered once in order', async () => {
    const [a, b] = await setUp();
    for (let i = 0; i < 5; i++) await send(a, `old ${i}`);
    const got: ChatMessage[] = [];
    const nodes: (string | undefined)[] = [];
    const feed = await b.feed('r', { messages: (ms, n) => (got.push(...ms), nodes.push(n)) });
    expect(feed.delivered).toBe(5);
    await Promise.all([send(a, 'six'), send(b, 'seven')]);
    await feed.reached(7);
    expect(got.map((m) => m.seq)).toEqual([6, 7]);
    expect(got.map((m) => m.message).sort()).toEqual(['seven', 'six']);
    expect(nodes.sort()).toEqual(['a', 'b']); // both came live, none from the stream
    await expect(b.feed('r', { messages: () => {} })).rejects.toThrow(/already has a feed/);
    await expect(b.feed('nope', { messages: () => {} })).rejects.toBeInstanceOf(NoSuchRoomError);
    // A failed feed leaves nothing behind: the room can be fed once it exists.
    expect(await a.createRoom({ room_id: 'nope', room_name: 'n', created_by: 'a', created_ts: 1 }, 0)).toBe(
      'created',
    );
    expect((await b.feed('nope', { messages: () => {} })).delivered).toBe(0);
  });

  it('with `after`, reads what it missed from the stream first, then goes live', async () => {
    const [a, b] = await setUp();
    for (let i = 0; i < 30; i++) await send(a, `m${i}`);
    const got: ChatMessage[] = [];
    const feed = await b.feed('r', { messages: (ms) => got.push(...ms) }, { after: 10 });
    await send(a, 'live');
    await feed.reached(31);
    expect(got.map((m) => m.seq)).toEqual(seqs(11, 31));
  });

  it('fills the gap from the stream after CLIENT KILL TYPE pubsub: no message lost, none twice, in order', async () => {
    const [a, b] = await setUp();
    const got: ChatMessage[] = [];
    const notices: FeedNotice[] = [];
    const feed = await b.feed('r', { messages: (ms) => got.push(...ms), notice: (n) => notices.push(n) });
    for (let i = 0; i < 50; i++) await send(a, `m${i}`);
    await feed.reached(50);
    expect(b.feedStats('r')).toEqual({ backfills: 0, backfilled: 0 });
    // Every subscriber connection is cut. Commits go on at once: what they publish reaches nobody.
    // They come from the other node, so b's own-commit check (EXPECT_MS) plays no part: only the
    // catch-up after b's resubscription, or a later batch skipping ahead, can fill the gap.
    expect(
      Number(await cluster.redis.admin().call('CLIENT', 'KILL', 'TYPE', 'pubsub')),
    ).toBeGreaterThanOrEqual(2);
    for (let i = 50; i < 60; i++) await send(a, `m${i}`);
    await feed.reached(60);
    // And after the reconnect, live again.
    for (let i = 60; i < 100; i++) await send(a, `m${i}`);
    await feed.reached(100);
    expect(got.map((m) => m.seq)).toEqual(seqs(1, 100));
    expect(got.map((m) => m.message)).toEqual(seqs(0, 99).map((i) => `m${i}`));
    // At least the first commit after the kill was lost on the wire: it was sent right after the
    // kill's reply, before the subscriber's reconnect timer (100 ms) could fire. How many more
    // were depends on the machine's load.
    expect(b.feedStats('r')!.backfilled).toBeGreaterThanOrEqual(1);
    // Presence notices flow again over the restored subscription.
    await a.joinPresence('r', 's1', 'Alice', 0);
    await send(a, 'after the notice');
    await feed.reached(101);
    expect(notices).toEqual([
      { node: 'a', type: 'user_joined', payload: { room_id: 'r', user_name: 'Alice' }, owner: 'a:s1' },
    ]);
  });

  it('asks the sink to read the settings again after the subscription was restored (their notices may be lost)', async () => {
    const [, b] = await setUp();
    let resyncs = 0;
    const feed = await b.feed('r', { messages: () => {}, resync: () => resyncs++ });
    expect(resyncs).toBe(0);
    await cluster.redis.admin().call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await expect.poll(() => resyncs).toBe(1);
    await feed.close();
  });

  it('fills a gap while writers keep going across the cut, on every node', async () => {
    const [a, b] = await setUp();
    const c = await node('c');
    const got = [[], [], []] as ChatMessage[][];
    const feeds = await Promise.all(
      [a, b, c].map((e, i) => e.feed('r', { messages: (ms) => got[i]!.push(...ms) })),
    );
    const writers = [a, b, c].map(async (e) => {
      for (let i = 0; i < 100; i++) await send(e, `${e.nodeId}${i}`);
    });
    // Cut every subscriber twice while the writers run.
    const admin = cluster.redis.admin();
    await feeds[0]!.reached(30);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await feeds[0]!.reached(150);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await Promise.all(writers);
    await Promise.all(feeds.map((f) => f.reached(300)));
    const stored = [...(await a.since('r', 0, 1000))];
    expect(stored.map((m) => m.seq)).toEqual(seqs(1, 300));
    for (const g of got) expect(g).toEqual(stored);
  });

  it('reports a gap retention made before the feed could read it, and carries on after it', async () => {
    const a = await node('a', 100);
    const b = await node('b');
    expect(await a.createRoom({ room_id: 'r', room_name: 'r', created_by: 'Alice', created_ts: 1 }, 0)).toBe(
      'created',
    );
    const got: number[] = [];
    const gaps: [number, number][] = [];
    // A feed resuming from seq 0 after 1,000 messages of which about 100 are kept.
    for (let i = 0; i < 10; i++)
      await a.commit(
        'r',
        Array.from({ length: 100 }, (_, k) => ({ senderKey: 'a', userName: 'a', text: `m${i * 100 + k}` })),
      );
    const first = (await a.firstSeq('r'))!;
    expect(first).toBeGreaterThan(1);
    const feed = await b.feed(
      'r',
      { messages: (ms) => got.push(...ms.map((m) => m.seq)), gap: (x, y) => gaps.push([x, y]) },
      { after: 0 },
    );
    await feed.reached(1000);
    expect(gaps).toEqual([[0, first - 1]]);
    expect(got).toEqual(seqs(first, 1000));
  });

  it('a sink that throws on a live batch gets it again from the stream: nothing lost, nothing twice', async () => {
    const errors: string[] = [];
    const a = await node('a');
    const b = await cluster.node('b', { onError: (_err, context) => errors.push(context) });
    expect(await a.createRoom({ room_id: 'r', room_name: 'r', created_by: 'Alice', created_ts: 1 }, 0)).toBe(
      'created',
    );
    const got: number[] = [];
    let failOnce = true;
    const feed = await b.feed('r', {
      messages: (ms) => {
        if (failOnce && ms.some((m) => m.seq === 2)) {
          failOnce = false;
          throw new Error('the sink failed');
        }
        got.push(...ms.map((m) => m.seq));
      },
    });
    for (let i = 0; i < 4; i++) await send(a, `m${i}`);
    await feed.reached(4);
    expect(got).toEqual(seqs(1, 4));
    expect(errors).toEqual(['feeding r']);
  });

  it("delivers this node's own batches from what it committed, the others' (and its own it lacks) parsed; all as stored", async () => {
    const [a, b] = await setUp();
    // Another engine under a's node id: its batches start like a's, but a's feed never committed them.
    const twin = await node('a');
    // Timed as the server times it (its flush): a batch is routed only once no round is in flight,
    // so a commit's answer is in before the batch it published.
    a.timeWith(() => setImmediate(() => void a.flushStep()));
    const got: ChatMessage[] = [];
    const feed = await a.feed('r', { messages: (ms) => got.push(...ms) });
    const [own] = await send(a, 'mine');
    await send(b, 'theirs');
    await send(twin, 'twin');
    const [again] = await send(a, 'mine again');
    await feed.reached(4);
    expect(got.map((m) => m.message)).toEqual(['mine', 'theirs', 'twin', 'mine again']);
    // The very objects the commits answered with: the batches were not parsed.
    expect(own!.duplicate === false && got[0] === own!.message).toBe(true);
    expect(again!.duplicate === false && got[3] === again!.message).toBe(true);
    expect(got).toEqual(await a.since('r', 0, 10));
    a.timeWith(undefined);
  });
});
