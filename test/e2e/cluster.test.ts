import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../src/protocol/events.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';

// The real binary twice, `chat serve --redis`, on one real redis-server.

let redis: RedisProcess;
let procs: ChatProcess[] = [];
let clients: TestClient[] = [];

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
  for (const c of clients) c.close();
  clients = [];
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});

async function node(args: string[]): Promise<ChatProcess> {
  const proc = await spawnChat(['--msg-rate', '0', ...args]);
  procs.push(proc);
  return proc;
}

async function client(proc: ChatProcess, nick: string): Promise<TestClient> {
  const c = await TestClient.open(proc.url);
  clients.push(c);
  expect((await c.hello(nick)).type).toBe('welcome');
  return c;
}

const isMessage = (m: ServerMessage): boolean => m.type === 'message';

describe('chat serve --redis, two processes', () => {
  it('members on both nodes get one order (ws, TCP lines, SSE); POST on the other node; Last-Event-ID resumes there', async () => {
    const a = await node(['--redis', redis.url]);
    const b = await node(['--redis', redis.url, '--tcp-port', '0']);
    const tina = await TcpTestClient.login(b.tcpPort!, 'tina');
    const alice = await client(a, 'alice');
    const bob = await client(b, 'bob');
    expect((await alice.request('join', { room_id: 'lobby' })).type).toBe('joined');
    expect((await bob.request('join', { room_id: 'lobby' })).type).toBe('joined');
    const stream = await SseTestClient.open(`http://127.0.0.1:${b.port}/stream?room=lobby`);
    expect(stream.status).toBe(200);
    await stream.waitEvent('joined');

    for (let i = 0; i < 20; i++) {
      alice.send('message', { room_id: 'lobby', message: `a${i}` }, `a${i}`);
      bob.send('message', { room_id: 'lobby', message: `b${i}` }, `b${i}`);
    }
    const atA = await alice.waitCount(isMessage, 40);
    const atB = await bob.waitCount(isMessage, 40);
    const order = atA.map((m) => (m.payload as ChatMessage).seq);
    expect(atB.map((m) => (m.payload as ChatMessage).seq)).toEqual(order);
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => order[0]! + i));
    const streamed = await stream.waitMessages(40);
    expect(streamed.map((m) => m.seq)).toEqual(order);
    stream.close();
    const said = (line: string): boolean => / <(alice|bob)> [ab]\d+$/.test(line);
    const lines = await tina.waitLines(said, 40);
    expect(lines.map((l) => l.slice(l.lastIndexOf(' ') + 1))).toEqual(
      atA.map((m) => (m.payload as ChatMessage).message),
    );
    tina.close();

    // A POST to node B reaches node A's members.
    const res = await fetch(`http://127.0.0.1:${b.port}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'poster', content: 'from curl' }),
    });
    expect(res.status).toBe(201);
    const posted = (await res.json()) as ChatMessage;
    const got = await alice.next((m) => isMessage(m) && (m.payload as ChatMessage).message === 'from curl');
    expect((got.payload as ChatMessage).seq).toBe(posted.seq);

    // The SSE client of node B that saw up to the 10th message resumes on node A with the id it
    // got (seq@epoch): both nodes name the room's history alike.
    const tenth = stream.events.filter((e) => e.event === 'message')[9]!.id!;
    expect(tenth).toMatch(new RegExp(`^${order[9]}@[0-9a-z]+$`));
    const resumed = await SseTestClient.open(`http://127.0.0.1:${a.port}/stream?room=lobby`, {
      'Last-Event-ID': tenth,
    });
    const rest = await resumed.waitMessages(31);
    expect(rest.map((m) => m.seq)).toEqual([...order.slice(10), posted.seq]);
    resumed.close();
  });

  it('CHAT_REDIS_URL works like --redis, and a node sees a room another node made', async () => {
    const before = process.env.CHAT_REDIS_URL;
    process.env.CHAT_REDIS_URL = redis.url;
    let a: ChatProcess;
    try {
      a = await node([]);
    } finally {
      if (before === undefined) delete process.env.CHAT_REDIS_URL;
      else process.env.CHAT_REDIS_URL = before;
    }
    const b = await node(['--redis', redis.url]);
    const alice = await client(a, 'alice');
    expect((await alice.request('create_room', { room_id: 'den' })).type).toBe('room_created');
    const bob = await client(b, 'bob');
    const joined = await bob.request('join', { room_id: 'den' });
    expect(joined.payload).toMatchObject({ room_id: 'den', members: ['alice', 'bob'] });
    const carol = await TestClient.open(b.url);
    clients.push(carol);
    const taken = await carol.request('hello', { user_name: 'alice' });
    expect(taken.payload).toMatchObject({ code: 'nick_taken' });
  });

  it('a node stopped with SIGTERM leaves its rooms and frees its nicks for the other nodes', async () => {
    const a = await node(['--redis', redis.url]);
    const b = await node(['--redis', redis.url]);
    const alice = await client(a, 'alice');
    const bob = await client(b, 'bob');
    await alice.request('join', { room_id: 'lobby' });
    await bob.request('join', { room_id: 'lobby' });
    await a.stop();
    const left = await bob.next((m) => m.type === 'user_left');
    expect(left.payload).toMatchObject({ room_id: 'lobby', user_name: 'alice', reason: 'shutdown' });
    const users = await bob.request('users', { room_id: 'lobby' });
    expect((users.payload as { users: string[] }).users).toEqual(['bob']);
    const again = await TestClient.open(b.url);
    clients.push(again);
    expect((await again.request('hello', { user_name: 'alice' })).type).toBe('welcome');
  });

  it('a node killed with SIGKILL: its users leave every room on the other nodes within 15 s and their nicks free up', async () => {
    const a = await node(['--redis', redis.url]);
    const b = await node(['--redis', redis.url]);
    const alice = await client(a, 'alice');
    const bob = await client(b, 'bob');
    await alice.request('join', { room_id: 'lobby' });
    await alice.request('create_room', { room_id: 'den' });
    await bob.request('join', { room_id: 'lobby' });
    await bob.request('join', { room_id: 'den' });
    const killedAt = Date.now();
    await a.kill();
    const gone = await bob.waitCount((m) => m.type === 'user_left', 2, 15_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(gone.map((m) => m.payload)).toEqual(
      expect.arrayContaining([
        { room_id: 'lobby', user_name: 'alice', reason: 'node_lost' },
        { room_id: 'den', user_name: 'alice', reason: 'node_lost' },
      ]),
    );
    const users = await bob.request('users', { room_id: 'den' });
    expect((users.payload as { users: string[] }).users).toEqual(['bob']);
    const again = await TestClient.open(b.url);
    clients.push(again);
    expect((await again.request('hello', { user_name: 'alice' })).type).toBe('welcome');
  }, 30_000);

  it('a node paused past its lease (SIGSTOP) is reaped, then notices on SIGCONT: its sessions are told and closed, and resume once', async () => {
    const a = await node(['--redis', redis.url, '--node-lease', '1']);
    const b = await node(['--redis', redis.url, '--node-lease', '1']);
    const alice = await TestClient.open(a.url);
    clients.push(alice);
    const welcome = await alice.hello('alice');
    const bob = await client(b, 'bob');
    const token = (welcome.payload as { resume_token: string }).resume_token;
    await alice.request('join', { room_id: 'lobby' });
    await bob.request('join', { room_id: 'lobby' });
    const before = await bob.request('message', { room_id: 'lobby', message: 'before the pause' });
    await alice.next(
      (m) => isMessage(m) && (m.payload as ChatMessage).seq === (before.payload as ChatMessage).seq,
    );

    a.child.kill('SIGSTOP');
    try {
      const left = await bob.next((m) => m.type === 'user_left', 10_000);
      expect(left.payload).toMatchObject({ user_name: 'alice', reason: 'node_lost' });
      await bob.request('message', { room_id: 'lobby', message: 'while alice was away' });
    } finally {
      a.child.kill('SIGCONT');
    }
    // Node A finds its lease gone at its next renewal: alice's session there is closed, not left serving a ghost.
    const told = await alice.next((m) => m.type === 'shutdown', 10_000);
    expect(told.payload).toMatchObject({ reason: 'node_lapsed' });
    expect((await alice.closedByServer()).code).toBe(1012);

    // Her client comes back (to node A, which carries on) with its token and resumes gap-free.
    const again = await TestClient.open(a.url);
    clients.push(again);
    expect((await again.request('hello', { user_name: 'alice', resume_token: token })).type).toBe('welcome');
    const since = (before.payload as ChatMessage).seq;
    const rejoined = await again.request('join', { room_id: 'lobby', since_seq: since });
    expect(rejoined.type).toBe('joined');
    const missed = await again.next((m) => m.type === 'history');
    expect(missed.payload).toMatchObject({ recovered: true });
    const replayed = (missed.payload as { messages: ChatMessage[] }).messages;
    expect(replayed.map((m) => [m.seq, m.message])).toEqual([[since + 1, 'while alice was away']]);
    await bob.next(
      (m) => m.type === 'user_joined' && (m.payload as { user_name: string }).user_name === 'alice',
    );
    const users = await bob.request('users', { room_id: 'lobby' });
    expect((users.payload as { users: string[] }).users).toEqual(['bob', 'alice']);
    const usersA = await again.request('users', { room_id: 'lobby' });
    expect((usersA.payload as { users: string[] }).users).toEqual(['bob', 'alice']);
  }, 40_000);

  it('refuses a Redis without appendonly unless --redis-unchecked, and a bad URL in one line', async () => {
    const loose = await startRedis(['--appendonly', 'no']);
    try {
      await expect(spawnChat(['--redis', loose.url])).rejects.toThrow(/appendonly/);
      const ok = await node(['--redis', loose.url, '--redis-unchecked']);
      expect(ok.port).toBeGreaterThan(0);
      await expect(spawnChat(['--redis', 'http://nope'])).rejects.toThrow(/--redis/);
    } finally {
      for (const p of procs.splice(0)) await p.stop();
      await loose.stop();
    }
  });
});
