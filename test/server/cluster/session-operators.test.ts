import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/index.js';
import { startTestServer } from '../../helpers/test-server.js';
import { IrcTestClient } from '../../helpers/irc-client.js';
import { startRedis, type RedisProcess } from '../../helpers/redis-server.js';
import { TestClient } from '../../helpers/ws-client.js';
import { until } from '../../helpers/wait.js';

// A guest's session operator status (it made the room) across two in-process `--redis` nodes on
// one real redis-server: made on node A, honoured and shown on node B, gone when the session leaves.

let redis: RedisProcess;
let servers: RunningServer[] = [];
let clients: { close(): void }[] = [];

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
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function twoNodes(): Promise<[RunningServer, RunningServer]> {
  const made: RunningServer[] = [];
  for (const id of ['a', 'b']) {
    const server = await startTestServer({ redis: redis.url, nodeId: id, rateLimit: false, ircPort: 0 });
    servers.push(server);
    made.push(server);
  }
  return [made[0]!, made[1]!];
}

async function guest(server: RunningServer, nick: string): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  expect((await c.hello(nick)).type).toBe('welcome');
  return c;
}

type Joined = Extract<ServerMessage, { type: 'joined' }>['payload'];

async function join(c: TestClient, room: string): Promise<Joined> {
  const reply = await c.request('join', { room_id: room });
  expect(reply.type, JSON.stringify(reply)).toBe('joined');
  return reply.payload as Joined;
}

async function roles(c: TestClient, room: string): Promise<Record<string, string>> {
  const reply = await c.request('users', { room_id: room });
  expect(reply.type).toBe('users');
  return (reply.payload as { roles?: Record<string, string> }).roles ?? {};
}

async function users(c: TestClient, room: string): Promise<string[]> {
  const reply = await c.request('users', { room_id: room });
  return reply.type === 'users' ? reply.payload.users : [];
}

const code = (reply: ServerMessage): string => (reply.type === 'error' ? reply.payload.code : reply.type);

describe('session operators on a cluster', () => {
  it('the creator on node A is an operator on node B too (users, joined, its kick of a B member), until it leaves', async () => {
    const [a, b] = await twoNodes();
    const alice = await guest(a, 'alice');
    expect((await join(alice, 'den')).roles).toEqual({ alice: 'operator' });
    const bob = await guest(b, 'bob');
    expect((await join(bob, 'den')).roles).toEqual({ alice: 'operator' });
    expect(await roles(bob, 'den')).toEqual({ alice: 'operator' });
    expect(code(await bob.request('kick', { room_id: 'den', user_name: 'alice' }))).toBe('not_operator');
    // Alice (A) gives bob (B) operator status: node B honours it at once.
    expect(code(await alice.request('role', { room_id: 'den', user_name: 'bob', role: 'operator' }))).toBe(
      'role_changed',
    );
    await until(async () => (await roles(bob, 'den'))['bob'] === 'operator');
    expect(await roles(alice, 'den')).toEqual({ alice: 'operator', bob: 'operator' });
    expect(code(await bob.request('mode', { room_id: 'den', modes: '+t' }))).toBe('modes_changed');
    const carol = await guest(b, 'carol');
    await join(carol, 'den');
    // Node A hears of carol's join through Redis: kick once it has.
    await until(async () => (await users(alice, 'den')).includes('carol'));
    expect(code(await alice.request('kick', { room_id: 'den', user_name: 'carol' }))).toBe('user_left');
    // A nick change on A keeps it.
    expect(code(await alice.request('nick', { user_name: 'alicia' }))).toBe('nick_changed');
    // Node B's members are told the role her new nick has, so their clients need no /users.
    const heard = await bob.next((m) => m.type === 'nick_changed' && m.payload.user_name === 'alicia');
    expect(heard.payload).toMatchObject({ room_id: 'den', old_name: 'alice', role: 'operator' });
    await until(async () => (await roles(bob, 'den'))['alicia'] === 'operator');

    // Alice leaves: her status ends on every node, and back in she is a plain member.
    expect(code(await alice.request('leave', { room_id: 'den' }))).toBe('user_left');
    expect((await join(alice, 'den')).roles).toEqual({ bob: 'operator' });
    await until(async () => JSON.stringify(await roles(bob, 'den')) === JSON.stringify({ bob: 'operator' }));
    expect(code(await alice.request('kick', { room_id: 'den', user_name: 'bob' }))).toBe('not_operator');
    // Kicked from A, bob (B) loses his: a new session under his nick gets nothing either.
    expect(code(await bob.request('role', { room_id: 'den', user_name: 'alicia', role: 'operator' }))).toBe(
      'role_changed',
    );
    await until(async () => (await roles(alice, 'den'))['alicia'] === 'operator');
    expect(code(await alice.request('kick', { room_id: 'den', user_name: 'bob' }))).toBe('user_left');
    await until(async () => (await roles(alice, 'den'))['bob'] === undefined);
    expect((await join(bob, 'den')).roles).toEqual({ alicia: 'operator' });
    expect(code(await bob.request('kick', { room_id: 'den', user_name: 'alicia' }))).toBe('not_operator');
  });

  it('a creator that disconnects from node A leaves nothing to whoever takes its nick on node B', async () => {
    const [a, b] = await twoNodes();
    const alice = await guest(a, 'alice');
    await join(alice, 'den');
    const bob = await guest(b, 'bob');
    expect((await join(bob, 'den')).roles).toEqual({ alice: 'operator' });
    alice.close();
    await bob.next((m) => m.type === 'user_left' && m.payload.user_name === 'alice');
    const alice2 = await guest(b, 'alice');
    expect((await join(alice2, 'den')).roles).toEqual({});
    expect(code(await alice2.request('kick', { room_id: 'den', user_name: 'bob' }))).toBe('not_operator');
  });

  it('IRC on node B sees the creator on node A as @ in NAMES and WHO', async () => {
    const [a, b] = await twoNodes();
    const alice = await guest(a, 'alice');
    await join(alice, 'den');
    const irc = await IrcTestClient.register(b.ircPort!, 'ircbob');
    clients.push(irc);
    irc.send('JOIN #den');
    await irc.wait(/ 353 ircbob = #den :(@alice ircbob|ircbob @alice)$/);
    irc.send('WHO #den');
    await irc.wait(/ 352 ircbob #den \S+ \S+ \S+ alice H@ :/);
    // The IRC user on B is made operator by the creator on A: a MODE line, and his KICK works.
    expect(code(await alice.request('role', { room_id: 'den', user_name: 'ircbob', role: 'operator' }))).toBe(
      'role_changed',
    );
    await irc.wait(/^:alice!\S+ MODE #den \+o ircbob$/);
    irc.send('KICK #den alice :out');
    await alice.next((m) => m.type === 'user_left' && m.payload.kicked_by === 'ircbob');
  });
});
