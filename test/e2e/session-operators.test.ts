/**
 * A guest's operator status over a room it made lasts as long as its session, with the real
 * binary: a node killed with SIGKILL (one node on SQLite, restarted; or one of two `--redis`
 * nodes, reaped) leaves nothing to the next session that takes the nick.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { keys } from '../../src/server/cluster/keys.js';
import { chatFixtures } from '../helpers/chat-process.js';
import { startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

const chats = chatFixtures();
const clients: TestClient[] = [];
let redis: RedisProcess;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await chats.cleanup();
});

async function guest(url: string, nick: string): Promise<TestClient> {
  const c = await TestClient.open(url);
  clients.push(c);
  expect((await c.hello(nick)).type).toBe('welcome');
  return c;
}

async function joinedRoles(c: TestClient, room: string): Promise<Record<string, string> | undefined> {
  const reply = await c.request('join', { room_id: room });
  expect(reply.type, JSON.stringify(reply)).toBe('joined');
  return (reply.payload as { roles?: Record<string, string> }).roles;
}

const code = (reply: ServerMessage): string => (reply.type === 'error' ? reply.payload.code : reply.type);

describe('session operators when the process dies', () => {
  it('SQLite: after SIGKILL and a restart, the first session again (the same session id) is nobody in the guest room', async () => {
    const dir = chats.tempDir();
    const args = ['--data-dir', dir.path, '--msg-rate', '0'];
    const first = await chats.spawn(args);
    // The process's first session: after the restart, the first session has its id again.
    const alice = await guest(first.url, 'alice');
    expect(await joinedRoles(alice, 'den')).toEqual({ alice: 'operator' });
    expect(code(await alice.request('message', { room_id: 'den', message: 'kept' }))).toBe('message');
    await first.kill();
    const second = await chats.spawn(args);
    const alice2 = await guest(second.url, 'alice');
    expect(await joinedRoles(alice2, 'den')).toEqual({});
    expect(code(await alice2.request('mode', { room_id: 'den', modes: '+t' }))).toBe('not_operator');
  }, 30_000);

  it('--redis: the creator on a node killed with SIGKILL is reaped, and the nick on the other node is nobody', async () => {
    await redis.admin().flushall();
    const args = ['--redis', redis.url, '--msg-rate', '0', '--node-lease', '1', '--operators', 'root'];
    const a = await chats.spawn(args);
    const b = await chats.spawn(args);
    const alice = await guest(a.url, 'alice');
    expect(await joinedRoles(alice, 'den')).toEqual({ alice: 'operator' });
    const bob = await guest(b.url, 'bob');
    expect(await joinedRoles(bob, 'den')).toEqual({ alice: 'operator' });
    await a.kill();
    await bob.next(
      (m) => m.type === 'user_left' && m.payload.user_name === 'alice' && m.payload.reason === 'node_lost',
      15_000,
    );
    const alice2 = await guest(b.url, 'alice');
    expect(await joinedRoles(alice2, 'den')).toEqual({});
    expect(code(await alice2.request('kick', { room_id: 'den', user_name: 'bob' }))).toBe('not_operator');
    const users = await bob.request('users', { room_id: 'den' });
    expect((users.payload as { roles?: Record<string, string> }).roles).toEqual({});
    // The dead node's entry names nobody; the next change of the settings drops it from Redis.
    const stored = async (): Promise<{ session_ops?: string[] }> =>
      JSON.parse((await redis.admin().hget(keys.settings('den'), 'json')) ?? '{}') as {
        session_ops?: string[];
      };
    expect((await stored()).session_ops).toHaveLength(1);
    const root = await guest(b.url, 'root');
    expect(code(await root.request('register', { password: 'correct horse battery' }))).toBe('registered');
    expect(code(await root.request('mode', { room_id: 'den', modes: '+m' }))).toBe('modes_changed');
    expect((await stored()).session_ops).toBeUndefined();
  }, 30_000);
});
