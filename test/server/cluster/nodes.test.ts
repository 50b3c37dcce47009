import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer, ServerOptions } from '../../../src/server/index.js';
import { startTestServer } from '../../helpers/test-server.js';
import { startRedis, type RedisProcess } from '../../helpers/redis-server.js';
import { TestClient } from '../../helpers/ws-client.js';
import { until } from '../../helpers/wait.js';
import type { LiveBatch, RoomFeed } from '../../../src/server/cluster/room-feed.js';

// Several in-process `chat serve --redis` nodes on one real redis-server: what a member sees
// must not depend on the node it is connected to.

let redis: RedisProcess;
let servers: RunningServer[] = [];
let clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  // A fault test may end with the server killed; the next test starts from a running one.
  if (redis.child().exitCode !== null || redis.child().signalCode !== null) await redis.restart();
  await redis.admin().flushall();
});
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function nodes(count: number, options: ServerOptions = {}): Promise<RunningServer[]> {
  const made: RunningServer[] = [];
  // One after the other: the first creates the cluster's epoch and default room.
  for (let i = 0; i < count; i++) {
    const server = await startTestServer({
      redis: redis.url,
      nodeId: `n${i}`,
      rateLimit: false,
      ...options,
    });
    servers.push(server);
    made.push(server);
  }
  return made;
}

async function client(server: RunningServer, nick?: string): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  if (nick !== undefined) {
    const welcome = await c.hello(nick);
    expect(welcome.type).toBe('welcome');
  }
  return c;
}

const isMessageIn = (room: string) => (m: ServerMessage) =>
  m.type === 'message' && (m.payload as ChatMessage).room_id === room;
const seqs = (events: ServerMessage[]): number[] => events.map((m) => (m.payload as ChatMessage).seq);
const texts = (events: ServerMessage[]): string[] => events.map((m) => (m.payload as ChatMessage).message);

async function join(
  c: TestClient,
  room: string,
  extra: Record<string, unknown> = {},
): Promise<ServerMessage> {
  const joined = await c.request('join', { room_id: room, ...extra });
  expect(joined.type).toBe('joined');
  return joined;
}

describe('messages across nodes', () => {
  it('a member on node B gets node A messages in the same dense seq order as A members', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const carol = await client(a!, 'carol');
    const bob = await client(b!, 'bob');
    await join(alice, 'lobby');
    await join(carol, 'lobby');
    await join(bob, 'lobby');
    for (let i = 0; i < 50; i++) alice.send('message', { room_id: 'lobby', message: `m${i}` }, i);
    const atA = await carol.waitCount(isMessageIn('lobby'), 50);
    const atB = await bob.waitCount(isMessageIn('lobby'), 50);
    const acks = await alice.waitCount((m) => m.type === 'message' && m.ref !== undefined, 50);
    const first = seqs(atA)[0]!;
    expect(seqs(atA)).toEqual(Array.from({ length: 50 }, (_, i) => first + i));
    expect(seqs(atB)).toEqual(seqs(atA));
    expect(texts(atB)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(seqs(acks)).toEqual(seqs(atA));
  });

  it('three writers on three nodes, interleaved: one order for every member on every node', async () => {
    const servers3 = await nodes(3);
    const writers = await Promise.all(servers3.map((s, i) => client(s, `w${i}`)));
    const readers = await Promise.all(servers3.map((s, i) => client(s, `r${i}`)));
    for (const c of [...writers, ...readers]) await join(c, 'lobby');
    const per = 1000;
    for (let i = 0; i < per; i++)
      writers.forEach((w, n) => w.send('message', { room_id: 'lobby', message: `w${n}-${i}` }, `${n}-${i}`));
    const seen = await Promise.all(
      [...writers, ...readers].map((c) => c.waitCount(isMessageIn('lobby'), 3 * per)),
    );
    const reference = seen[0]!.map((m) => m.payload as ChatMessage);
    const start = reference[0]!.seq;
    expect(reference.map((m) => m.seq)).toEqual(Array.from({ length: 3 * per }, (_, i) => start + i));
    for (const events of seen) {
      expect(seqs(events)).toEqual(reference.map((m) => m.seq));
      expect(texts(events)).toEqual(reference.map((m) => m.message));
    }
    // Each writer's own messages keep the order it sent them in.
    for (let n = 0; n < 3; n++) {
      const mine = reference.filter((m) => m.user_name === `w${n}`).map((m) => m.message);
      expect(mine).toEqual(Array.from({ length: per }, (_, i) => `w${n}-${i}`));
    }
  });

  it('history and since_seq resume on another node are gap-free', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    await join(alice, 'lobby');
    for (let i = 0; i < 30; i++) alice.send('message', { room_id: 'lobby', message: `h${i}` }, i);
    const sent = await alice.waitCount((m) => m.type === 'message' && m.ref !== undefined, 30);
    const all = seqs(sent);

    // A client that saw up to the 10th message resumes on node B.
    const bob = await client(b!, 'bob');
    const resumed = bob.next(
      (m) => m.type === 'history' && (m.payload as { recovered?: boolean }).recovered !== undefined,
    );
    await join(bob, 'lobby', { since_seq: all[9] });
    const page = (await resumed).payload as { messages: ChatMessage[]; recovered: boolean };
    expect(page.recovered).toBe(true);
    expect(page.messages.map((m) => m.seq)).toEqual(all.slice(10));

    // A plain history page on B ends at the same newest message.
    const history = await bob.request('history', { room_id: 'lobby', limit: 5 });
    expect(history.type).toBe('history');
    expect((history.payload as { messages: ChatMessage[] }).messages.map((m) => m.seq)).toEqual(
      all.slice(-5),
    );

    // And B's members get what A's members send next, after the replay.
    alice.send('message', { room_id: 'lobby', message: 'after' }, 'after');
    const live = await bob.next(
      (m) => isMessageIn('lobby')(m) && (m.payload as ChatMessage).message === 'after',
    );
    expect((live.payload as ChatMessage).seq).toBe(all[29]! + 1);
  });

  it('a resume on a node whose feed lags behind what the client saw waits for it: joined.last_seq is never below since_seq', async () => {
    const [a, b] = await nodes(2);
    const bob = await client(b!, 'bob');
    await join(bob, 'lobby');
    // Hold node B's feed of the room back (the live batches reach it late), as a busy node's would.
    const engineB = (b!.hub as unknown as { options: { engine: { feeds: Map<string, RoomFeed> } } }).options
      .engine;
    const feedB = engineB.feeds.get('lobby')!;
    const held: LiveBatch[] = [];
    const push = feedB.pushBatch.bind(feedB);
    let holding = true;
    feedB.pushBatch = (batch) => (holding ? void held.push(batch) : push(batch));
    const alice = await client(a!, 'alice');
    await join(alice, 'lobby');
    let last = 0;
    for (let i = 1; i <= 5; i++)
      last = ((await alice.request('message', { room_id: 'lobby', message: `m${i}` })).payload as ChatMessage)
        .seq;
    await until(() => held.length > 0);
    // Alice, having seen `last` on node A, resumes on node B.
    const carol = await client(b!, 'carol');
    carol.send('join', { room_id: 'lobby', since_seq: last }, 'j');
    setTimeout(() => {
      holding = false;
      for (const batch of held.splice(0)) push(batch);
    }, 200);
    const joined = await carol.next((m) => m.ref === 'j');
    expect(joined.type).toBe('joined');
    expect((joined.payload as { last_seq: number }).last_seq).toBeGreaterThanOrEqual(last);
    const replay = await carol.next((m) => m.type === 'history');
    expect(replay.payload).toMatchObject({ messages: [], recovered: true });
  });

  it('a client_msg_id retried on another node is stored once', async () => {
    const [a, b] = await nodes(2);
    const alice1 = await client(a!, 'alice');
    await join(alice1, 'lobby');
    const first = await alice1.request('message', {
      room_id: 'lobby',
      message: 'once',
      client_msg_id: 'c-1',
    });
    expect(first.type).toBe('message');
    alice1.close();
    await alice1.closedByServer().catch(() => undefined);
    // The same user reconnects to node B (after node A freed the nick) and retries.
    const alice2 = await client(b!);
    await expect
      .poll(async () => (await alice2.request('hello', { user_name: 'alice' })).type, { timeout: 5000 })
      .toBe('welcome');
    await join(alice2, 'lobby');
    const retry = await alice2.request('message', {
      room_id: 'lobby',
      message: 'once',
      client_msg_id: 'c-1',
    });
    expect(retry.type).toBe('message');
    expect((retry.payload as ChatMessage).seq).toBe((first.payload as ChatMessage).seq);
    expect((retry.payload as ChatMessage).id).toBe((first.payload as ChatMessage).id);
    const history = await alice2.request('history', { room_id: 'lobby', limit: 50 });
    const stored = (history.payload as { messages: ChatMessage[] }).messages.filter(
      (m) => m.message === 'once',
    );
    expect(stored).toHaveLength(1);
  });
});

describe('rooms across nodes', () => {
  it('a room created on node A is joinable on node B, and cannot be created again there', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const created = await alice.request('create_room', { room_id: 'den', room_name: 'The Den' });
    expect(created.type).toBe('room_created');
    await alice.next((m) => m.type === 'joined' && (m.payload as { room_id: string }).room_id === 'den');
    const bob = await client(b!, 'bob');
    const again = await bob.request('create_room', { room_id: 'den' });
    expect(again.type).toBe('error');
    expect((again.payload as { code: string }).code).toBe('room_exists');
    const joined = await join(bob, 'den');
    expect(joined.payload).toMatchObject({ room_id: 'den', room_name: 'The Den', members: ['alice', 'bob'] });
    const said = await alice.request('message', { room_id: 'den', message: 'welcome, bob' });
    const got = await bob.next(isMessageIn('den'));
    expect(got.payload).toEqual(said.payload);
  });

  it('many joins at once of a new room on two nodes all get in (one actor and one feed per node)', async () => {
    const [a, b] = await nodes(2);
    const crowd = await Promise.all(Array.from({ length: 16 }, (_, i) => client(i % 2 ? b! : a!, `c${i}`)));
    const answers = await Promise.all(crowd.map((c) => c.request('join', { room_id: 'crowd' })));
    expect(answers.map((m) => m.type)).toEqual(crowd.map(() => 'joined'));
    const said = await crowd[0]!.request('message', { room_id: 'crowd', message: 'to all' });
    for (const c of crowd.slice(1)) {
      const got = await c.next(
        (m) => isMessageIn('crowd')(m) && (m.payload as ChatMessage).message === 'to all',
      );
      expect(got.payload).toEqual(said.payload);
    }
  });

  it('--max-rooms holds for the whole cluster', async () => {
    // The default room is one of the two.
    const [a, b] = await nodes(2, { maxRooms: 2 });
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    expect((await alice.request('create_room', { room_id: 'one' })).type).toBe('room_created');
    const refused = await bob.request('create_room', { room_id: 'two' });
    expect(refused.type).toBe('error');
    expect((refused.payload as { code: string }).code).toBe('server_rooms_full');
    // Joining the existing one from the other node still works.
    await join(bob, 'one');
  });
});

describe('idle room expiry across nodes', () => {
  const listed = async (c: TestClient): Promise<string[]> => {
    const rooms = await c.request('rooms', {});
    return (rooms.payload as { rooms: { room_id: string }[] }).rooms.map((r) => r.room_id);
  };

  it('a room empty on every node for the expiry time is removed once, cluster-wide; kept and busy rooms stay; its seqs are never reused', async () => {
    const idle = 600;
    const [a, b] = await nodes(2, { roomIdleExpiryMs: idle });
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    const owner = await client(b!, 'owner');
    expect((await owner.request('register', { password: 'correct horse' })).type).toBe('registered');
    expect((await alice.request('create_room', { room_id: 'brief' })).type).toBe('room_created');
    await alice.next((m) => m.type === 'joined' && (m.payload as { room_id: string }).room_id === 'brief');
    expect((await owner.request('create_room', { room_id: 'owned' })).type).toBe('room_created');
    await join(bob, 'brief');
    await join(bob, 'busy');
    const said = await alice.request('message', { room_id: 'brief', message: 'short-lived' });
    const lastSeq = (said.payload as ChatMessage).seq;
    // Both nodes hold an actor for it; bob (node B) leaves first, alice (node A) last.
    expect(a!.hub.room('brief')).toBeDefined();
    expect(b!.hub.room('brief')).toBeDefined();
    expect((await bob.request('leave', { room_id: 'brief' })).type).toBe('user_left');
    const leftAt = Date.now();
    expect((await alice.request('leave', { room_id: 'brief' })).type).toBe('user_left');
    expect((await owner.request('leave', { room_id: 'owned' })).type).toBe('user_left');

    // Gone from Redis and from both nodes' registries.
    await until(async () => (await redis.admin().hexists('chat:rooms', 'brief')) === 0, 10_000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(idle - 50);
    await until(() => a!.hub.room('brief') === undefined && b!.hub.room('brief') === undefined);
    expect(await redis.admin().exists('chat:{r:brief}:log', 'chat:{r:brief}:pres')).toBe(0);
    expect(await listed(alice)).not.toContain('brief');
    expect(await listed(bob)).not.toContain('brief');
    // Kept: the default room, a registered nick's room, and one with a member on node B.
    await until(async () => (await redis.admin().zscore('chat:roomactive', 'owned')) === null);
    expect(await listed(alice)).toEqual(expect.arrayContaining(['lobby', 'owned', 'busy']));

    // Made again: a new room whose seqs start above the expired one's.
    await join(alice, 'brief');
    const again = await alice.request('message', { room_id: 'brief', message: 'back' });
    expect((again.payload as ChatMessage).seq).toBe(lastSeq + 1);
    const joinedB = await join(bob, 'brief');
    expect((joinedB.payload as { members: string[] }).members).toEqual(['alice', 'bob']);
  });
});

describe('/stats and /metrics across nodes', () => {
  it('say which node answers, count its own connections, and give the cluster-wide nodes, rooms and members', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await client(b!, 'carol');
    await join(alice, 'lobby');
    expect((await alice.request('create_room', { room_id: 'den' })).type).toBe('room_created');
    await join(bob, 'lobby');

    const statsA = (await (await fetch(`${a!.httpUrl}/stats`)).json()) as Record<string, unknown>;
    expect(statsA).toMatchObject({
      node: 'n0',
      connections: { total: 1 },
      users: 1,
      cluster: { redis: 'up', nodes: 2, rooms: 2, members: 3 },
    });
    const statsB = (await (await fetch(`${b!.httpUrl}/stats`)).json()) as Record<string, unknown>;
    expect(statsB).toMatchObject({
      node: 'n1',
      connections: { total: 2 },
      users: 2,
      cluster: { members: 3 },
    });

    const metrics = await (await fetch(`${b!.httpUrl}/metrics`)).text();
    expect(metrics).toContain('chat_node_info{node="n1"} 1');
    expect(metrics).toContain('chat_cluster{what="members"} 3');
    expect(metrics).toContain('chat_cluster{what="rooms"} 2');

    // Redis gone: this node's figures still, the cluster's marked down.
    await redis.kill();
    const down = (await (await fetch(`${a!.httpUrl}/stats`)).json()) as Record<string, unknown>;
    expect(down).toMatchObject({ node: 'n0', connections: { total: 1 }, cluster: { redis: 'down' } });
    expect(down.cluster).toEqual({ redis: 'down' });
  });

  it('count commits on the node that made them and deliveries on the node that made them: no empty commits, no zero fan-outs', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    for (const message of ['one', 'two', 'three'])
      expect((await alice.request('message', { room_id: 'lobby', message })).type).toBe('message');
    await bob.waitCount(isMessageIn('lobby'), 3);
    const value = (text: string, name: string): number =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const metricsA = await (await fetch(`${a!.httpUrl}/metrics`)).text();
    const metricsB = await (await fetch(`${b!.httpUrl}/metrics`)).text();
    expect(value(metricsA, 'chat_messages_stored_total')).toBe(3);
    expect(value(metricsA, 'chat_store_commit_seconds_count')).toBe(3);
    expect(value(metricsA, 'chat_store_commit_batch_messages_sum')).toBe(3);
    // Node B committed nothing: its commit histograms stay empty (they got a zero per delivered batch).
    expect(value(metricsB, 'chat_messages_stored_total')).toBe(0);
    expect(value(metricsB, 'chat_store_commit_seconds_count')).toBe(0);
    expect(value(metricsB, 'chat_store_commit_batch_messages_count')).toBe(0);
    // Alice's three acknowledgements on A, bob's three messages on B; each a fan-out of one.
    expect(value(metricsA, 'chat_message_deliveries_total')).toBe(3);
    expect(value(metricsB, 'chat_message_deliveries_total')).toBe(3);
    for (const m of [metricsA, metricsB]) {
      expect(value(m, 'chat_fanout_recipients_bucket{le="0"}')).toBe(0);
      expect(value(m, 'chat_fanout_recipients_sum')).toBe(value(m, 'chat_fanout_recipients_count'));
    }
  });
});

describe('the member cap across nodes', () => {
  it('--max-members-per-room counts members on every node; one refused is not in the room', async () => {
    const [a, b] = await nodes(2, { maxMembersPerRoom: 1 });
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await join(alice, 'lobby');
    const refused = await bob.request('join', { room_id: 'lobby' });
    expect(refused.payload).toMatchObject({ code: 'room_full' });
    const said = await bob.request('message', { room_id: 'lobby', message: 'sneaking in' });
    expect(said.payload).toMatchObject({ code: 'not_in_room' });
  });
});

describe('nicks and presence across nodes', () => {
  const code = (m: ServerMessage): string | undefined =>
    m.type === 'error' ? (m.payload as { code: string }).code : undefined;

  it('a nick taken on node A is refused on node B, look-alikes too, and free again once its holder leaves', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const other = await client(b!);
    expect(code(await other.request('hello', { user_name: 'alice' }))).toBe('nick_taken');
    // The confusable skeleton is the key: a Cyrillic "а" is the same nick.
    expect(code(await other.request('hello', { user_name: 'аlice' }))).toBe('nick_taken');
    expect(code(await other.request('join', { room_id: 'lobby', user_name: 'ALICE' }))).toBe('nick_taken');
    // A rename on B to A's nick is refused too.
    const bob = await client(b!, 'bob');
    expect(code(await bob.request('nick', { user_name: 'alice' }))).toBe('nick_taken');
    alice.close();
    await expect
      .poll(async () => (await other.request('hello', { user_name: 'alice' })).type, { timeout: 5000 })
      .toBe('welcome');
  });

  it('a resume_token takes the nick over on another node at once, and the ghost there is dropped', async () => {
    const [a, b] = await nodes(2);
    const first = await client(a!);
    const welcome = await first.request('hello', { user_name: 'alice' });
    const token = (welcome.payload as { resume_token: string }).resume_token;
    const second = await client(b!);
    expect(code(await second.request('hello', { user_name: 'alice', resume_token: 'not-it' }))).toBe(
      'nick_taken',
    );
    const again = await second.request('hello', { user_name: 'alice', resume_token: token });
    expect(again.type).toBe('welcome');
    const closed = await first.closedByServer();
    expect(closed.reason).toMatch(/replaced|elsewhere/);
    // The new holder keeps it: a third client without the new token is refused.
    const third = await client(a!);
    expect(code(await third.request('hello', { user_name: 'alice' }))).toBe('nick_taken');
  });

  it('a nick registered on node A needs its password on node B', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    expect((await alice.request('register', { password: 'correct horse' })).type).toBe('registered');
    alice.close();
    const again = await client(b!);
    await expect
      .poll(async () => code(await again.request('hello', { user_name: 'alice' })), { timeout: 5000 })
      .toBe('nick_registered');
    const ok = await again.request('hello', { user_name: 'alice', password: 'correct horse' });
    expect(ok.type).toBe('welcome');
    expect((ok.payload as { registered: boolean }).registered).toBe(true);
  });

  it('a rename that only changes case shows the new spelling on every node (whois, WHO masks)', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    expect((await alice.request('nick', { user_name: 'Alice' })).type).toBe('nick_changed');
    // Redis's list of held nicks (what WHO masks on any node read) has the new spelling, alone.
    expect(await redis.admin().hvals('chat:online')).toEqual(expect.arrayContaining(['Alice', 'bob']));
    expect(await redis.admin().hvals('chat:online')).not.toContain('alice');
    const whois = await bob.request('whois', { user_name: 'alice' });
    expect(whois.type).toBe('whois');
    expect((whois.payload as { user_name: string }).user_name).toBe('Alice');
    // Still one claim: the old spelling is not free for somebody else.
    const other = await client(b!);
    expect(code(await other.request('hello', { user_name: 'alice' }))).toBe('nick_taken');
  });

  it('joins, leaves, renames and users reflect members on every node', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await join(alice, 'lobby');
    const joined = await join(bob, 'lobby');
    expect((joined.payload as { members: string[] }).members).toEqual(['alice', 'bob']);
    const heard = await alice.next((m) => m.type === 'user_joined');
    expect(heard.payload).toEqual({ room_id: 'lobby', user_name: 'bob' });

    const users = await alice.request('users', { room_id: 'lobby' });
    expect((users.payload as { users: string[] }).users).toEqual(['alice', 'bob']);

    expect((await bob.request('nick', { user_name: 'robert' })).type).toBe('nick_changed');
    const renamed = await alice.next((m) => m.type === 'nick_changed' && m.ref === undefined);
    expect(renamed.payload).toEqual({ room_id: 'lobby', old_name: 'bob', user_name: 'robert', role: null });
    const after = await alice.request('users', { room_id: 'lobby' });
    expect((after.payload as { users: string[] }).users).toEqual(['alice', 'robert']);

    const rooms = await alice.request('rooms', {});
    expect((rooms.payload as { rooms: { room_id: string; members: number }[] }).rooms).toContainEqual(
      expect.objectContaining({ room_id: 'lobby', members: 2 }),
    );

    bob.close();
    const left = await alice.next((m) => m.type === 'user_left');
    // A socket closed without a quit request is a quit with reason `connection lost` (issue 14).
    expect(left.payload).toMatchObject({ room_id: 'lobby', user_name: 'robert', reason: 'connection lost' });
  });
});

describe('presence after the subscriber link was cut', () => {
  it('members are told the joins, leaves and nick changes they missed while it was down, once each', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    const erin = await client(b!, 'erin');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    await join(erin, 'lobby');
    await alice.waitCount((m) => m.type === 'user_joined', 2);
    const admin = redis.admin();
    const count = async (...type: string[]) =>
      String(await admin.call('CLIENT', 'LIST', ...type))
        .split('\n')
        .filter((l) => l.trim() !== '').length;
    // Both nodes' subscribers are cut and kept out (no room for a new connection) while B's
    // members change: the notices published meanwhile reach no node.
    const all = await count();
    const subscribers = await count('TYPE', 'pubsub');
    await admin.config('SET', 'maxclients', String(all - subscribers));
    const seenBefore = alice.received.length;
    try {
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBe(subscribers);
      const carol = await client(b!, 'carol');
      await join(carol, 'lobby');
      expect((await bob.request('nick', { user_name: 'bobby' })).type).toBe('nick_changed');
      expect((await erin.request('leave', { room_id: 'lobby' })).type).toBe('user_left');
      const users = await carol.request('users', { room_id: 'lobby' });
      expect((users.payload as { users: string[] }).users).toEqual(['alice', 'bobby', 'carol']);
    } finally {
      await admin.config('SET', 'maxclients', '10000');
    }
    // A's subscriber comes back: the lobby reads the shared presence and tells alice the difference.
    const presence = (m: ServerMessage) => ['user_joined', 'user_left', 'nick_changed'].includes(m.type);
    const told = await alice.waitCount((m) => presence(m) && alice.received.indexOf(m) >= seenBefore, 3);
    expect(told.map((m) => m.payload)).toEqual(
      expect.arrayContaining([
        { room_id: 'lobby', user_name: 'erin' },
        { room_id: 'lobby', user_name: 'carol' },
        { room_id: 'lobby', old_name: 'bob', user_name: 'bobby' },
      ]),
    );
    // Live again, and nothing told twice: a message from B comes after exactly those three.
    await until(async () => {
      const r = await bob.request('message', { room_id: 'lobby', message: 'still here?' });
      return r.type === 'message';
    });
    await alice.next((m) => isMessageIn('lobby')(m) && (m.payload as ChatMessage).message === 'still here?');
    expect(alice.received.slice(seenBefore).filter(presence)).toHaveLength(3);
    const users = await alice.request('users', { room_id: 'lobby' });
    expect((users.payload as { users: string[] }).users).toEqual(['alice', 'bobby', 'carol']);
  });
});

describe('a ban across nodes', () => {
  it('members on both nodes, the banned ones too, see ban_changed before the user_left it causes', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    expect((await alice.request('register', { password: 'correct horse' })).type).toBe('registered');
    expect((await alice.request('create_room', { room_id: 'den' })).type).toBe('room_created');
    await join(alice, 'den');
    const carol = await client(a!, 'carol');
    const frank = await client(a!, 'frank');
    const bob = await client(b!, 'bob');
    const erin = await client(b!, 'erin');
    for (const c of [carol, frank, bob, erin]) await join(c, 'den');
    await carol.waitCount((m) => m.type === 'user_joined', 3);
    const from = new Map([carol, frank, bob, erin].map((c) => [c, c.received.length]));
    const seen = (c: TestClient): string[] =>
      c.received
        .slice(from.get(c))
        .filter((m) => m.type === 'ban_changed' || m.type === 'user_left')
        .map((m) =>
          m.type === 'ban_changed'
            ? `ban ${String(m.payload.mask)}`
            : `left ${m.payload.user_name} by ${String(m.payload.kicked_by)}`,
        );

    // bob is on the other node, frank on the banning one.
    expect((await alice.request('ban', { room_id: 'den', mask: 'bob' })).type).toBe('ban_changed');
    await carol.waitCount((m) => m.type === 'user_left', 1);
    await erin.waitCount((m) => m.type === 'user_left', 1);
    expect((await alice.request('ban', { room_id: 'den', mask: 'frank' })).type).toBe('ban_changed');
    await carol.waitCount((m) => m.type === 'user_left', 2);
    await erin.waitCount((m) => m.type === 'user_left', 2);
    const order = ['ban bob', 'left bob by alice', 'ban frank', 'left frank by alice'];
    expect(seen(carol)).toEqual(order);
    expect(seen(erin)).toEqual(order);
    // Each banned member is told of its ban, then that it was removed, wherever it is connected.
    await bob.next((m) => m.type === 'user_left');
    await frank.next((m) => m.type === 'user_left');
    expect(seen(bob)).toEqual(order.slice(0, 2));
    expect(seen(frank)).toEqual(order);
  });
});

describe('DMs across nodes', () => {
  it('a DM reaches its nick on another node; nobody holding it is no_such_user', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    const sent = await alice.request('dm', { to: 'BOB', message: 'psst' });
    expect(sent.type).toBe('dm');
    expect(sent.payload).toMatchObject({ from: 'alice', to: 'bob', message: 'psst' });
    const got = await bob.next((m) => m.type === 'dm');
    expect(got.payload).toEqual(sent.payload);
    const nobody = await alice.request('dm', { to: 'carol', message: 'hello?' });
    expect(nobody.payload).toMatchObject({ code: 'no_such_user' });
    const back = await bob.request('dm', { to: 'alice', message: 'hi' });
    expect((await alice.next((m) => m.type === 'dm' && m.ref === undefined)).payload).toEqual(back.payload);
  });
});

describe('when Redis is down', () => {
  it('requests get unavailable with retry_after_ms, POST 503 with Retry-After, /health says so; all resumes when it is back', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    const bob = await client(b!, 'bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    const before = await alice.request('message', { room_id: 'lobby', message: 'before' });
    const seq = (before.payload as ChatMessage).seq;
    const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${a!.httpUrl}/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok', node: 'n0', redis: 'up' } });

    await redis.kill();
    await expect.poll(async () => (await health()).body.redis, { timeout: 10_000 }).toBe('down');
    expect(await health()).toMatchObject({ status: 503, body: { status: 'redis_down' } });
    const refused = await alice.request('message', {
      room_id: 'lobby',
      message: 'lost',
      client_msg_id: 'x1',
    });
    expect(refused.type).toBe('error');
    expect(refused.payload).toMatchObject({ code: 'unavailable', retry_after_ms: expect.any(Number) });
    const post = await fetch(`${b!.httpUrl}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'poster', content: 'hello?' }),
    });
    expect(post.status).toBe(503);
    expect(post.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await post.json()) as { error: string }).error).toBe('unavailable');

    await redis.restart();
    await expect.poll(async () => (await health()).status, { timeout: 10_000 }).toBe(200);
    // The retry of the refused message is stored once; bob on the other node gets it next in order.
    await expect
      .poll(
        async () =>
          (await alice.request('message', { room_id: 'lobby', message: 'lost', client_msg_id: 'x1' })).type,
        {
          timeout: 10_000,
        },
      )
      .toBe('message');
    const got = await bob.next(
      (m) => isMessageIn('lobby')(m) && (m.payload as ChatMessage).message === 'lost',
    );
    expect((got.payload as ChatMessage).seq).toBe(seq + 1);
    const history = await bob.request('history', { room_id: 'lobby', limit: 10 });
    const page = (history.payload as { messages: ChatMessage[] }).messages;
    expect(page.filter((m) => m.message === 'lost')).toHaveLength(1);
    expect(page.filter((m) => m.message === 'hello?')).toHaveLength(0);
  });
});

describe('when Redis lost its data', () => {
  it('clients are told history_replaced; back on any node the room starts above every old seq, and an old since_seq gets recovered: false', async () => {
    const [a, b] = await nodes(2);
    const alice = await client(a!, 'alice');
    await join(alice, 'lobby');
    // A client on node B too: its notice shows B has seen the loss, so a client opened on B
    // after it is not one that B's own notice would close.
    const watcher = await client(b!, 'watcher');
    let last = 0;
    for (let i = 0; i < 5; i++)
      last = (
        (await alice.request('message', { room_id: 'lobby', message: `old${i}` })).payload as ChatMessage
      ).seq;
    await redis.restart({ empty: true });
    const notice = await alice.next((m) => m.type === 'shutdown');
    expect(notice.payload).toMatchObject({ reason: 'history_replaced' });
    await alice.closedByServer();
    expect((await watcher.next((m) => m.type === 'shutdown')).payload).toMatchObject({
      reason: 'history_replaced',
    });
    await watcher.closedByServer();

    const again = await client(b!);
    await expect
      .poll(async () => (await again.request('hello', { user_name: 'alice' })).type, { timeout: 10_000 })
      .toBe('welcome');
    const resumed = again.next((m) => m.type === 'history' && m.ref === undefined);
    await expect
      .poll(async () => (await again.request('join', { room_id: 'lobby', since_seq: last })).type)
      .toBe('joined');
    expect((await resumed).payload).toMatchObject({ recovered: false });
    const fresh = await again.request('message', { room_id: 'lobby', message: 'new era' });
    expect((fresh.payload as ChatMessage).seq).toBeGreaterThan(last);
    // Node A serves the new epoch too.
    const carol = await client(a!, 'carol');
    await join(carol, 'lobby');
    const history = await carol.request('history', { room_id: 'lobby', limit: 10 });
    expect((history.payload as { messages: ChatMessage[] }).messages.map((m) => m.message)).toEqual([
      'new era',
    ]);
  });
  it('lost while no node ran: the new cluster counts seqs from 1 again, and an old since_seq with its epoch gets the latest page, not a replay of other messages', async () => {
    const [a] = await nodes(1);
    const alice = await client(a!, 'alice');
    const before = (await join(alice, 'lobby')).payload as { epoch: string };
    for (const message of ['old 1', 'old 2'])
      expect((await alice.request('message', { room_id: 'lobby', message })).type).toBe('message');
    alice.close();
    await a!.close();
    servers = [];
    // Nobody runs to remember the old epoch: the first node back cannot tell a lost cluster
    // from a new one, and the lobby counts from 1 again.
    await redis.restart({ empty: true });
    const [b] = await nodes(1);
    const bob = await client(b!, 'bob');
    await join(bob, 'lobby');
    for (const message of ['new 1', 'new 2', 'new 3', 'new 4'])
      expect((await bob.request('message', { room_id: 'lobby', message })).type).toBe('message');
    const back = await client(b!, 'alice');
    const page = back.next((m) => m.type === 'history' && m.ref === undefined);
    const rejoined = await join(back, 'lobby', { since_seq: 2, epoch: before.epoch });
    expect(rejoined.payload).toMatchObject({ last_seq: 4 });
    expect((rejoined.payload as { epoch: string }).epoch).not.toBe(before.epoch);
    const got = (await page).payload as { messages: ChatMessage[]; recovered?: boolean };
    expect(got.recovered).toBeUndefined();
    expect(got.messages.map((m) => m.message)).toEqual(['new 1', 'new 2', 'new 3', 'new 4']);
  });
});
