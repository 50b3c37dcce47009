import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/protocol/events.js';
import type { EpochChange } from '../../../src/server/cluster/engine.js';
import { EpochChangedError, NoSuchRoomError } from '../../../src/server/cluster/errors.js';
import { COMMIT } from '../../../src/server/cluster/lua.js';
import { RedisSetupError } from '../../../src/server/cluster/preflight.js';
import type { RedisEngine } from '../../../src/server/cluster/redis-engine.js';
import { type RedisEngineOptions } from '../../../src/server/cluster/redis-engine.js';
import { useRedisNodes } from '../../helpers/redis-nodes.js';
import { until } from '../../helpers/wait.js';

const cluster = useRedisNodes();
const node = (nodeId: string, options: Partial<RedisEngineOptions> = {}) => cluster.node(nodeId, options);

async function room(engine: RedisEngine, id: string): Promise<void> {
  expect(await engine.createRoom({ room_id: id, room_name: id, created_by: 'Alice', created_ts: 1 }, 0)).toBe(
    'created',
  );
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('RedisEngine commits', () => {
  it('gives dense seqs in one order when 3 nodes x 3 writers commit 300 messages each to one room', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => node(id)));
    await room(nodes[0]!, 'lobby');
    // Every node feeds the room too: each must deliver the same 1..N once, in seq order.
    const delivered = nodes.map(() => [] as ChatMessage[]);
    const feeds = await Promise.all(
      nodes.map((n, i) => n.feed('lobby', { messages: (ms) => delivered[i]!.push(...ms) })),
    );
    const PER_WRITER = 300;
    const acked = new Map<string, number>();
    await Promise.all(
      nodes.flatMap((n) =>
        [0, 1, 2].map(async (w) => {
          let previous = 0;
          for (let i = 0; i < PER_WRITER; i++) {
            // Mostly one draft per call, sometimes a batch of three (a mailbox run).
            const batch = i % 10 === 0 ? 3 : 1;
            const drafts = Array.from({ length: Math.min(batch, PER_WRITER - i) }, (_, k) => ({
              senderKey: `${n.nodeId}${w}`,
              userName: `${n.nodeId}${w}`,
              text: `${n.nodeId}${w} #${i + k}`,
            }));
            i += drafts.length - 1;
            for (const out of await n.commit('lobby', drafts)) {
              expect(out.duplicate).toBe(false);
              if (out.duplicate) continue;
              // A writer's own messages keep its order.
              expect(out.message.seq).toBeGreaterThan(previous);
              previous = out.message.seq;
              acked.set(out.message.message, out.message.seq);
            }
          }
        }),
      ),
    );
    const N = 3 * 3 * PER_WRITER;
    expect(acked.size).toBe(N);
    expect([...acked.values()].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(await nodes[1]!.head('lobby')).toBe(N);
    // The stream holds exactly what was acknowledged, at the acknowledged seqs.
    const stored: ChatMessage[] = [];
    while (stored.length < N) stored.push(...(await nodes[2]!.since('lobby', stored.length, 1000)));
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    for (const m of stored) expect(acked.get(m.message)).toBe(m.seq);
    await Promise.all(feeds.map((f) => f.reached(N)));
    for (const d of delivered) expect(d).toEqual(stored);
  });

  it('stores a client_msg_id once when two nodes commit it at the same moment', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await room(a, 'r');
    const draft = (i: number) => ({
      senderKey: 'alice',
      userName: 'Alice',
      text: `hello ${i}`,
      clientMsgId: `c${i}`,
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => [a.commit('r', [draft(i)]), b.commit('r', [draft(i)])]).flat(),
    );
    const outcomes = results.map((r) => r[0]!);
    const fresh = outcomes.filter((o) => !o.duplicate);
    const dups = outcomes.filter((o) => o.duplicate);
    expect(fresh).toHaveLength(100);
    expect(dups).toHaveLength(100);
    for (let i = 0; i < 100; i++) {
      const pair = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
      const stored = pair.find((o) => !o.duplicate)!;
      const dup = pair.find((o) => o.duplicate)!;
      if (stored.duplicate || !dup.duplicate) throw new Error('unreachable');
      // The retry gets the stored copy: same seq, same id.
      expect(dup.message).toEqual(stored.message);
      expect(dup.seq).toBe(stored.message.seq);
    }
    expect(await a.since('r', 0, 1000)).toHaveLength(100);
    // The key is the sender's: another sender may use the same client_msg_id.
    const [other] = await b.commit('r', [{ ...draft(0), senderKey: 'bob', userName: 'Bob' }]);
    expect(other).toMatchObject({ duplicate: false, message: { seq: 101 } });
    // A batch repeating a client_msg_id stores it once.
    const inBatch = await a.commit('r', [draft(500), draft(500)]);
    expect(inBatch.map((o) => o.duplicate)).toEqual([false, true]);
  });

  it('sends the commits of many rooms made in one turn as one script call, one batch per room; a missing room fails alone', async () => {
    const a = await node('a');
    const rooms = Array.from({ length: 10 }, (_, i) => `room${i}`);
    for (const id of rooms) await room(a, id);
    const seen: ChatMessage[][] = [];
    const feed = await a.feed('room3', { messages: (batch) => void seen.push(batch) });
    // Loads the script, so the turn below is EVALSHA only.
    await a.commit('room0', [{ senderKey: 's', userName: 'S', text: 'warm' }]);
    const admin = cluster.redis.admin();
    await admin.config('RESETSTAT');
    const draft = (text: string) => ({ senderKey: 's', userName: 'S', text });
    const results = await Promise.allSettled([
      ...rooms.map((id) => a.commit(id, [draft(`${id} one`), draft(`${id} two`)])),
      a.commit('nothing', [draft('lost')]),
      // The same room twice in a turn: one step of the script, in call order.
      a.commit('room3', [draft('room3 three')]),
    ]);
    const stats = await admin.info('commandstats');
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls('evalsha')).toBe(1);
    expect(calls('publish')).toBe(10);
    const seqs = results.map((r) =>
      r.status === 'fulfilled' ? r.value.map((o) => (o.duplicate ? -1 : o.message.seq)) : r.reason,
    );
    expect(seqs.slice(0, 10)).toEqual(rooms.map((_, i) => (i === 0 ? [2, 3] : [1, 2])));
    expect(seqs[10]).toBeInstanceOf(NoSuchRoomError);
    expect(seqs[11]).toEqual([3]);
    await feed.reached(3);
    expect(seen.map((batch) => batch.map((m) => m.message))).toEqual([
      ['room3 one', 'room3 two', 'room3 three'],
    ]);
    await feed.close();
  });

  it('loads every script when its command link connects, and again after a reconnect: no NOSCRIPT on first use', async () => {
    const admin = cluster.redis.admin();
    await admin.config('RESETSTAT');
    const a = await node('a');
    const rooms = Array.from({ length: 5 }, (_, i) => `loaded${i}`);
    for (const id of rooms) await room(a, id);
    const draft = (text: string) => ({ senderKey: 's', userName: 'S', text });
    await Promise.all(rooms.map((id) => a.commit(id, [draft(`${id} one`)])));
    const noscript = async () =>
      Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0);
    expect(await noscript()).toBe(0);
    // Redis forgets its scripts (SCRIPT FLUSH, or a restart); the node's link drops and comes back.
    const commitSha = createHash('sha1').update(COMMIT).digest('hex');
    await admin.script('FLUSH');
    expect(await admin.script('EXISTS', commitSha)).toEqual([0]);
    const list = (await admin.client('LIST')) as string;
    // The command link is named chat:<node id>; its subscriber link chat:<node id>:sub.
    const id = /^id=(\d+) .* name=chat:a /m.exec(list)?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);
    await until(async () => ((await admin.script('EXISTS', commitSha)) as number[])[0] === 1);
    await Promise.all(rooms.map((r) => a.commit(r, [draft(`${r} two`)])));
    expect(await noscript()).toBe(0);
  });

  it('holds what the channels bring for the WebSocket flush: routed in order on release, once; undefined releases at once', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await room(b, 'held');
    const delivered: number[] = [];
    const feed = await a.feed('held', { messages: (ms) => delivered.push(...ms.map((m) => m.seq)) });
    let requests = 0;
    a.timeWith(() => requests++);
    const draft = (text: string) => ({ senderKey: 'bob', userName: 'Bob', text });
    await b.commit('held', [draft('one'), draft('two')]);
    await b.commit('held', [draft('three')]);
    // Both batches reached node a and wait there: the first one asked for a flush, the second did not.
    await until(() => a.heldCount === 2);
    expect(requests).toBe(1);
    expect(delivered).toEqual([]);
    expect(a.releaseHeld()).toBe(true);
    await feed.reached(3);
    expect(delivered).toEqual([1, 2, 3]);
    expect(a.releaseHeld()).toBe(false);
    await b.commit('held', [draft('four')]);
    await until(() => a.heldCount === 1);
    expect(requests).toBe(2);
    // Handing the timing back (shutdown) routes what is held, and what comes later at once.
    a.timeWith(undefined);
    await feed.reached(4);
    await b.commit('held', [draft('five')]);
    await feed.reached(5);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(requests).toBe(2);
  });

  it('timed by the flush, sends one round a flush: what queued during its trip waits for the next flush, which it asks for', async () => {
    const a = await node('a');
    await room(a, 'r');
    const delivered: number[] = [];
    const feed = await a.feed('r', { messages: (ms) => delivered.push(...ms.map((m) => m.seq)) });
    let requests = 0;
    a.timeWith(() => requests++);
    const draft = (text: string) => ({ senderKey: 's', userName: 'S', text });
    const first = a.commit('r', [draft('one')]);
    await until(() => requests === 1);
    const round = a.flushStep(1);
    expect(round).toBeInstanceOf(Promise);
    // Queued while the round is in flight.
    let secondDone = false;
    const second = a.commit('r', [draft('two')]).then((o) => ((secondDone = true), o));
    await round;
    expect(await first).toMatchObject([{ duplicate: false, message: { seq: 1 } }]);
    await until(() => a.heldCount === 1); // the batch of seq 1
    const asked = requests;
    // The flush's second step routes what the answer brought and sends nothing...
    expect(a.flushStep(2)).toBe(true);
    await feed.reached(1);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(secondDone).toBe(false);
    // ...but asks for the next flush, whose first step sends it.
    expect(requests).toBe(asked + 1);
    await a.flushStep(1);
    expect(await second).toMatchObject([{ duplicate: false, message: { seq: 2 } }]);
    a.timeWith(undefined);
    await feed.reached(2);
    expect(delivered).toEqual([1, 2]);
  });

  it('reads since, before and firstSeq, and trims to about `retain` with the idempotency keys', async () => {
    const a = await node('a', { retain: 200 });
    await room(a, 'r');
    for (let i = 0; i < 10; i++) {
      await a.commit(
        'r',
        Array.from({ length: 100 }, (_, k) => ({
          senderKey: 's',
          userName: 'S',
          text: `m${i * 100 + k}`,
          clientMsgId: `id${i * 100 + k}`,
        })),
      );
    }
    const first = (await a.firstSeq('r'))!;
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThanOrEqual(801); // MAXLEN ~ keeps at least `retain`
    expect((await a.since('r', first - 1, 5)).map((m) => m.seq)).toEqual([
      first,
      first + 1,
      first + 2,
      first + 3,
      first + 4,
    ]);
    expect((await a.since('r', 998, 10)).map((m) => m.seq)).toEqual([999, 1000]);
    expect(await a.since('r', 1000, 10)).toEqual([]);
    expect((await a.before('r', undefined, 3)).map((m) => m.seq)).toEqual([998, 999, 1000]);
    expect((await a.before('r', 900, 2)).map((m) => m.seq)).toEqual([898, 899]);
    expect(await a.before('r', 1, 10)).toEqual([]);
    const idem = await cluster.redis.admin().zcard('chat:{r:r}:idem');
    expect(idem).toBeLessThanOrEqual(1000 - first + 1 + 128);
    expect(await a.firstSeq('nothing')).toBeUndefined();
    await expect(a.commit('nothing', [{ senderKey: 's', userName: 'S', text: 'x' }])).rejects.toBeInstanceOf(
      NoSuchRoomError,
    );
  });
});

describe('RedisEngine rooms, nicks, presence', () => {
  it('applies the room cap to the whole cluster, and one creator wins a race for an id', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const make = (e: RedisEngine, id: string) =>
      e.createRoom({ room_id: id, room_name: id, created_by: e.nodeId, created_ts: 1 }, 5);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => make(i % 2 ? a : b, `room${i}`)));
    expect(results.filter((r) => r === 'created')).toHaveLength(5);
    expect(results.filter((r) => r === 'full')).toHaveLength(5);
    expect(await a.listRooms()).toHaveLength(5);
    const created = (await b.listRooms())[0]!;
    expect(await Promise.all([make(a, created.room_id), make(b, created.room_id)])).toEqual([
      'exists',
      'exists',
    ]);
    const race = await Promise.all([
      a.createRoom({ room_id: 'x', room_name: 'A', created_by: 'a', created_ts: 1 }, 0),
      b.createRoom({ room_id: 'x', room_name: 'B', created_by: 'b', created_ts: 2 }, 0),
    ]);
    expect(race.sort()).toEqual(['created', 'exists']);
    expect(await b.getRoom('x')).toMatchObject({ room_id: 'x', last_seq: 0 });
    expect(await b.getRoom('nope')).toBeUndefined();
  });

  it('holds nicks cluster-wide; the resume token takes a nick over from another node', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const kicks: unknown[] = [];
    const kicked = new Promise<void>((resolve) =>
      a.on('node', (e) => {
        kicks.push(e);
        resolve();
      }),
    );
    expect(await a.claimNick('alice', { session: 's1', nick: 'Alice', tokenHash: sha('t1') })).toEqual({
      result: 'ok',
    });
    expect(await b.claimNick('alice', { session: 's9', nick: 'alice', tokenHash: sha('t9') })).toEqual({
      result: 'taken',
      node: 'a',
      session: 's1',
    });
    expect(
      await b.claimNick('alice', {
        session: 's9',
        nick: 'alice',
        tokenHash: sha('t9'),
        presentedTokenHash: sha('wrong'),
      }),
    ).toMatchObject({ result: 'taken' });
    // Alice's client reconnected to node b with her token: b takes the nick, a is told.
    expect(
      await b.claimNick('alice', {
        session: 's9',
        nick: 'Alice',
        tokenHash: sha('t9'),
        presentedTokenHash: sha('t1'),
      }),
    ).toEqual({ result: 'took_over', node: 'a', session: 's1' });
    await kicked;
    expect(kicks).toEqual([{ t: 'kick', nick_key: 'alice', by: 'b:s9' }]);
    // The old holder's late release frees nothing; the new holder's does.
    expect(await a.releaseNick('alice', 's1')).toBe(false);
    expect(await a.claimNick('alice', { session: 's2', nick: 'Alice', tokenHash: sha('t2') })).toMatchObject({
      result: 'taken',
    });
    expect(await b.releaseNick('alice', 's9')).toBe(true);
    expect(await a.claimNick('alice', { session: 's2', nick: 'Alice', tokenHash: sha('t2') })).toEqual({
      result: 'ok',
    });
    // Concurrent claims of one free nick: exactly one wins.
    const race = await Promise.all([
      a.claimNick('bob', { session: 's3', nick: 'bob', tokenHash: 'x' }),
      b.claimNick('bob', { session: 's4', nick: 'bob', tokenHash: 'y' }),
    ]);
    expect(race.map((r) => r.result).sort()).toEqual(['ok', 'taken']);
  });

  it('keeps presence across nodes in join order, with a cap, and announces it on the room feed', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await room(a, 'r');
    const notices: unknown[] = [];
    let seen!: () => void;
    const allSeen = new Promise<void>((r) => (seen = r));
    await b.feed('r', {
      messages: () => {},
      notice: (n) => {
        notices.push(n);
        if (notices.length === 3) seen();
      },
    });
    expect(await a.joinPresence('r', 's1', 'Alice', 2)).toBe('joined');
    expect(await b.joinPresence('r', 's2', 'Bob', 2)).toBe('joined');
    expect(await a.joinPresence('r', 's1', 'Alice', 2)).toBe('already');
    expect(await a.joinPresence('r', 's3', 'Carol', 2)).toBe('full');
    expect(await b.members('r')).toEqual([
      { node: 'a', session: 's1', nick: 'Alice' },
      { node: 'b', session: 's2', nick: 'Bob' },
    ]);
    expect(await a.counts()).toEqual(new Map([['r', 2]]));
    expect(await a.leavePresence('r', 's1', 'Alice', 'quit')).toBe(true);
    expect(await a.leavePresence('r', 's1', 'Alice', 'quit')).toBe(false);
    await allSeen;
    expect(notices).toEqual([
      { node: 'a', type: 'user_joined', payload: { room_id: 'r', user_name: 'Alice' }, owner: 'a:s1' },
      { node: 'b', type: 'user_joined', payload: { room_id: 'r', user_name: 'Bob' }, owner: 'b:s2' },
      {
        node: 'a',
        type: 'user_left',
        payload: { room_id: 'r', user_name: 'Alice', reason: 'quit' },
        owner: 'a:s1',
      },
    ]);
    expect(await b.members('r')).toEqual([{ node: 'b', session: 's2', nick: 'Bob' }]);
  });

  it('keeps room settings with a version: one of two changes made on the same version wins, the other gets the newer settings; every other node hears it', async () => {
    const a = await node('a');
    const b = await node('b');
    const owner = { key: 'alice', nick: 'Alice' };
    const base = {
      modes: { topic_locked: false, invite_only: false, moderated: false },
      operators: [],
      voiced: [],
      bans: [],
    };
    expect(
      await a.createRoom(
        {
          room_id: 'Den',
          room_name: 'Den',
          created_by: 'Alice',
          created_ts: 1,
          settings: { ...base, owner },
        },
        0,
      ),
    ).toBe('created');
    // Another spelling is the same room, with the creator's ownership.
    const read = await b.roomSettings('DEN');
    expect(read.settings).toEqual({ ...base, owner });
    expect((await b.getRoom('den'))?.room_id).toBe('Den');
    const heard: unknown[] = [];
    const feed = await a.feed('den', { messages: () => {}, notice: (n) => heard.push(n) });
    const locked = { ...base, owner, modes: { ...base.modes, topic_locked: true } };
    const banned = { ...base, owner, bans: [{ mask: 'eve', set_by: 'Alice', set_ts: 2 }] };
    expect(await b.saveSettings('den', read.version, locked)).toEqual({
      saved: true,
      version: read.version + 1,
    });
    expect(await a.saveSettings('den', read.version, banned)).toEqual({
      saved: false,
      current: { version: read.version + 1, settings: locked },
    });
    await expect.poll(() => heard.length).toBe(1);
    expect(heard[0]).toMatchObject({
      node: 'b',
      type: 'settings',
      payload: { room_id: 'den', version: read.version + 1, settings: locked },
    });
    await feed.close();
  });

  it('shares away messages until the nick is released', async () => {
    const a = await node('a');
    const b = await node('b');
    expect(await a.claimNick('bob', { session: 's1', nick: 'Bob', tokenHash: sha('t') })).toEqual({
      result: 'ok',
    });
    await a.setAway('bob', 'at lunch');
    expect(await b.awayOf(['bob', 'carol'])).toEqual(['at lunch', undefined]);
    expect(await b.sendDm('bob', { from: 'Carol', message: 'hi' })).toEqual({
      node: 'a',
      session: 's1',
      nick: 'Bob',
      away: 'at lunch',
    });
    expect(await a.releaseNick('bob', 's1')).toBe(true);
    expect(await b.awayOf(['bob'])).toEqual([undefined]);
  });

  it('lists the nicks held on every node for WHO masks, bounded, until each is released', async () => {
    const a = await node('a');
    const b = await node('b');
    for (let i = 0; i < 30; i++)
      await (i % 2 ? a : b).claimNick(`al${i}`, { session: `s${i}`, nick: `Al${i}`, tokenHash: sha('t') });
    await b.claimNick('carol', { session: 'c', nick: 'Carol', tokenHash: sha('t') });
    const all = await a.onlineNicks(() => true, 1000, 10_000);
    expect(all.sort()).toEqual([...Array.from({ length: 30 }, (_, i) => `Al${i}`), 'Carol'].sort());
    expect(await b.onlineNicks((n) => n.startsWith('C'), 10, 10_000)).toEqual(['Carol']);
    expect(await a.onlineNicks((n) => n.startsWith('Al'), 5, 10_000)).toHaveLength(5);
    // A rename on the same session shows the new spelling; a release drops the nick.
    await b.claimNick('carol', { session: 'c', nick: 'CAROL', tokenHash: sha('t') });
    expect(await a.onlineNicks((n) => n.toLowerCase() === 'carol', 10, 10_000)).toEqual(['CAROL']);
    expect(await b.releaseNick('carol', 'c')).toBe(true);
    expect(await a.onlineNicks((n) => n.toLowerCase() === 'carol', 10, 10_000)).toEqual([]);
  });

  it('stores registered users', async () => {
    const a = await node('a');
    const user = { nick_key: 'alice', user_name: 'Alice', password_hash: 'scrypt$x', created_ts: 5 };
    await a.putUser(user);
    expect(await (await node('b')).getUser('alice')).toEqual(user);
    expect(await a.getUser('bob')).toBeUndefined();
  });
});

describe('RedisEngine idle expiry', () => {
  it('expires a room only when nobody is present and it has been idle long enough; a join after that is refused, and nodes feeding it are told', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await room(a, 'tmp');
    const told: string[] = [];
    b.on('expired', (id: string) => told.push(id));
    const feed = await b.feed('tmp', { messages: () => {} });
    expect(await b.joinPresence('tmp', 's1', 'bob', 0)).toBe('joined');
    // Present on node B: never expired, however long the room is said to be idle.
    expect(await a.idleRooms(0, 10)).toContain('tmp');
    expect(await a.expireRoom('tmp', 0)).toBe('busy');
    expect(await b.leavePresence('tmp', 's1', 'bob')).toBe(true);
    // The leave stamped it active: not idle for a minute yet.
    expect(await a.expireRoom('tmp', 60_000)).toBe('busy');
    // A node touching it (watchers there) keeps it active too.
    const before = Number(await cluster.redis.admin().zscore('chat:roomactive', 'tmp'));
    await b.touchRooms(['tmp']);
    expect(Number(await cluster.redis.admin().zscore('chat:roomactive', 'tmp'))).toBeGreaterThanOrEqual(
      before,
    );
    expect(await a.expireRoom('tmp', 0)).toBe('expired');
    expect(await a.expireRoom('tmp', 0)).toBe('gone');
    expect(await a.getRoom('tmp')).toBeUndefined();
    // Node B still had the actor: its late join is refused rather than joining a removed room.
    expect(await b.joinPresence('tmp', 's2', 'carol', 0)).toBe('noroom');
    expect(await a.members('tmp')).toEqual([]);
    await until(() => told.length > 0);
    expect(told).toEqual(['tmp']);
    await feed.close();
    // A kept room is no longer tracked, and touches do not bring it back.
    await room(a, 'kept');
    await a.keepRoom('kept');
    await a.touchRooms(['kept']);
    expect(await a.idleRooms(0, 10)).not.toContain('kept');
  });
});

describe('RedisEngine epoch and start-up check', () => {
  it('shares one epoch; after Redis lost its data a commit fails EPOCH and the node adopts a new epoch above every old seq', async () => {
    const [a, b] = [await node('a'), await node('b')];
    expect(b.epoch).toBe(a.epoch);
    expect(a.base).toBe(0);
    await room(a, 'r');
    await a.commit('r', [{ senderKey: 's', userName: 'S', text: 'one' }]);
    const before = Date.now();
    await cluster.redis.admin().flushall(); // the data is gone; the links stay up
    const changed = new Promise<EpochChange>((r) => a.once('epoch', r));
    const err = await a
      .commit('r', [{ senderKey: 's', userName: 'S', text: 'two' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochChangedError);
    const change = await changed;
    expect(change.previous).not.toBe(change.current);
    expect(change.base).toBeGreaterThanOrEqual(before * 1000);
    expect(change.base).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(a.epoch).toBe(change.current);
    // The room is gone with the data; created again it continues above the base.
    await room(a, 'r');
    const [out] = await a.commit('r', [{ senderKey: 's', userName: 'S', text: 'three' }]);
    expect(out).toMatchObject({ duplicate: false, message: { seq: change.base + 1, message: 'three' } });
    expect((await a.since('r', change.base, 10)).map((m) => m.seq)).toEqual([change.base + 1]);
    // b still holds the old epoch: its next write is refused, and it joins the new one.
    const bChanged = new Promise<EpochChange>((r) => b.once('epoch', r));
    await expect(b.commit('r', [{ senderKey: 's', userName: 'S', text: 'four' }])).rejects.toBeInstanceOf(
      EpochChangedError,
    );
    expect((await bChanged).current).toBe(change.current);
    const [out2] = await b.commit('r', [{ senderKey: 's', userName: 'S', text: 'four' }]);
    expect(out2).toMatchObject({ message: { seq: change.base + 2 } });
  });

  it('refuses a Redis without appendonly yes or with eviction, unless unchecked; reports appendfsync', async () => {
    const admin = cluster.redis.admin();
    try {
      await admin.config('SET', 'appendonly', 'no');
      await expect(node('a')).rejects.toThrow(RedisSetupError);
      await expect(node('a')).rejects.toThrow(/appendonly is no/);
      const unchecked = await node('a', { unchecked: true });
      expect(unchecked.durability.notes.join('\n')).toMatch(/check skipped: appendonly is no/);
      await admin.config('SET', 'appendonly', 'yes');
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await expect(node('b')).rejects.toThrow(/maxmemory-policy is allkeys-lru/);
    } finally {
      await admin.config('SET', 'appendonly', 'yes');
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
    const ok = await node('c');
    expect(ok.durability).toMatchObject({
      appendonly: 'yes',
      appendfsync: 'always',
      maxmemoryPolicy: 'noeviction',
    });
    expect(ok.durability.notes[0]).toMatch(/survive a Redis crash and a power loss/);
  });
});
