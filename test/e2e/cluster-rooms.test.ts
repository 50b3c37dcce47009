import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../src/protocol/events.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';
import { IrcTestClient } from '../helpers/irc-client.js';

// Room life and moderation across real `chat serve --redis` processes on one real redis-server:
// settings (topic, owner, modes, roles, bans), kicks, away and whois hold on every node.

const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

let redis: RedisProcess;
let procs: ChatProcess[] = [];
let closers: (() => void)[] = [];

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
  for (const close of closers) close();
  closers = [];
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});

async function node(args: string[] = []): Promise<ChatProcess> {
  const proc = await spawnChat(['--msg-rate', '0', '--redis', redis.url, ...args]);
  procs.push(proc);
  return proc;
}

async function client(proc: ChatProcess, nick: string, password?: string): Promise<TestClient> {
  const c = await TestClient.open(proc.url);
  closers.push(() => c.close());
  expect((await c.hello(nick)).type).toBe('welcome');
  if (password !== undefined) expect((await c.request('register', { password })).type).toBe('registered');
  return c;
}

async function tcpLogin(proc: ChatProcess, nick: string): Promise<TcpTestClient> {
  const tcp = await TcpTestClient.login(proc.tcpPort!, nick);
  closers.push(() => tcp.socket.destroy());
  return tcp;
}

const code = (m: ServerMessage): unknown => (m.type === 'error' ? m.payload.code : m.type);

describe('room settings across nodes', () => {
  it('owner, topic and modes set on node A hold on node B (and on a node started later)', async () => {
    const a = await node();
    const b = await node();
    const alice = await client(a, 'alice', 'correct horse');
    expect((await alice.request('create_room', { room_id: 'den' })).type).toBe('room_created');
    expect((await alice.request('join', { room_id: 'den' })).type).toBe('joined');
    expect((await alice.request('topic', { room_id: 'den', topic: 'first things' })).type).toBe('message');
    expect((await alice.request('mode', { room_id: 'den', modes: '+t' })).type).toBe('modes_changed');

    // Node B opens the room now: owner, topic and +t come from Redis.
    const bob = await client(b, 'bob');
    const joined = await bob.request('join', { room_id: 'den' });
    expect(joined.payload).toMatchObject({
      room_id: 'den',
      members: ['alice', 'bob'],
      topic: { text: 'first things', set_by: 'alice' },
      roles: { alice: 'owner' },
      modes: { topic_locked: true, invite_only: false, moderated: false },
    });
    expect(code(await bob.request('topic', { room_id: 'den', topic: 'mine now' }))).toBe('topic_locked');
    expect((await bob.request('mode', { room_id: 'den' })).payload).toMatchObject({ owner: 'alice' });
    expect(code(await bob.request('kick', { room_id: 'den', user_name: 'alice' }))).toBe('not_operator');

    // Changed on A while B holds the room: B's members are told, and B's rules follow at once.
    alice.send('mode', { room_id: 'den', modes: '+m' }, 'm');
    const changed = await bob.next((m) => m.type === 'modes_changed');
    expect(changed.payload).toMatchObject({ room_id: 'den', by: 'alice', modes: { moderated: true } });
    expect(code(await bob.request('message', { room_id: 'den', message: 'hello?' }))).toBe('moderated');
    const voiced = await alice.request('role', { room_id: 'den', user_name: 'bob', role: 'voice' });
    expect(voiced.type).toBe('role_changed');
    await bob.next((m) => m.type === 'role_changed');
    expect((await bob.request('message', { room_id: 'den', message: 'voiced' })).type).toBe('message');

    // A topic set on A is the stored topic everywhere: a join on B, and a third node started now.
    alice.send('topic', { room_id: 'den', topic: 'second thoughts' }, 't2');
    const line = await bob.next((m) => m.type === 'message' && (m.payload as ChatMessage).kind === 'topic');
    expect((line.payload as ChatMessage).message).toBe('second thoughts');
    const carol = await client(b, 'carol');
    expect((await carol.request('join', { room_id: 'den' })).payload).toMatchObject({
      topic: { text: 'second thoughts', set_by: 'alice' },
    });
    const c = await node();
    const dave = await client(c, 'dave');
    expect((await dave.request('join', { room_id: 'den' })).payload).toMatchObject({
      topic: { text: 'second thoughts' },
      roles: { alice: 'owner', bob: 'voice' },
      modes: { topic_locked: true, moderated: true },
    });
    expect((await dave.request('topic', { room_id: 'den' })).payload).toMatchObject({
      topic: { text: 'second thoughts' },
    });
  });

  it('#DEV on node A and #dev on node B are one room, shown as first spelt', async () => {
    const a = await node();
    const b = await node();
    const alice = await client(a, 'alice');
    const bob = await client(b, 'bob');
    expect((await alice.request('join', { room_id: 'DEV' })).payload).toMatchObject({ room_id: 'DEV' });
    const joined = await bob.request('join', { room_id: 'dev' });
    expect(joined.payload).toMatchObject({ room_id: 'DEV', members: ['alice', 'bob'] });
    alice.send('message', { room_id: 'DEV', message: 'one room' }, 'x');
    const got = await bob.next((m) => m.type === 'message');
    expect(got.payload).toMatchObject({ room_id: 'DEV', message: 'one room' });
    const rooms = await bob.request('rooms', {});
    const listed = (rooms.payload as { rooms: { room_id: string; members: number }[] }).rooms;
    expect(listed.filter((r) => r.room_id.toLowerCase() === 'dev')).toEqual([
      expect.objectContaining({ room_id: 'DEV', members: 2 }),
    ]);
  });
});

describe('kicks and bans across nodes', () => {
  it('a kick on node A removes bob from node B; a ban keeps him out through every door of B', async () => {
    const a = await node();
    const b = await node(['--tcp-port', '0']);
    const alice = await client(a, 'alice', 'correct horse');
    expect((await alice.request('create_room', { room_id: 'den' })).type).toBe('room_created');
    await alice.request('join', { room_id: 'den' });
    const carol = await client(a, 'carol');
    await carol.request('join', { room_id: 'den' });
    const bob = await client(b, 'bob');
    await bob.request('join', { room_id: 'den' });
    const erin = await client(b, 'erin');
    await erin.request('join', { room_id: 'den' });

    const kicked = await alice.request('kick', { room_id: 'den', user_name: 'bob', reason: 'spam' });
    expect(kicked).toMatchObject({
      type: 'user_left',
      payload: { room_id: 'den', user_name: 'bob', reason: 'spam', kicked_by: 'alice' },
    });
    const told = await bob.next((m) => m.type === 'user_left');
    expect(told.payload).toMatchObject({ user_name: 'bob', kicked_by: 'alice', reason: 'spam' });
    for (const member of [carol, erin])
      expect((await member.next((m) => m.type === 'user_left')).payload).toMatchObject({
        user_name: 'bob',
        kicked_by: 'alice',
      });
    expect(code(await bob.request('message', { room_id: 'den', message: 'still here?' }))).toBe(
      'not_in_room',
    );
    const users = await alice.request('users', { room_id: 'den' });
    expect((users.payload as { users: string[] }).users).toEqual(['alice', 'carol', 'erin']);
    // The kicker got its reply once: no second user_left for bob reached alice.
    await alice.request('users', { room_id: 'den' });
    expect(alice.received.filter((m) => m.type === 'user_left')).toHaveLength(1);

    // Banned on A while erin (on B) is in: she is removed on B; bob cannot come back through B.
    expect((await alice.request('ban', { room_id: 'den', mask: 'bob' })).type).toBe('ban_changed');
    expect((await alice.request('ban', { room_id: 'den', mask: 'erin' })).type).toBe('ban_changed');
    const out = await erin.next((m) => m.type === 'user_left' && m.payload.user_name === 'erin');
    expect(out.payload).toMatchObject({ user_name: 'erin', reason: 'banned', kicked_by: 'alice' });
    expect(
      (await carol.next((m) => m.type === 'user_left' && m.payload.user_name === 'erin')).payload,
    ).toMatchObject({ kicked_by: 'alice' });
    expect(code(await bob.request('join', { room_id: 'den' }))).toBe('banned');
    bob.close();
    const res = await fetch(`http://127.0.0.1:${b.port}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'bob', content: 'sneaky', room: 'den' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'banned' });
    const tcp = await tcpLogin(b, 'bob');
    tcp.write('/join den\n');
    await tcp.waitLine((l) => l.includes('error') && l.includes('banned'));

    // An address ban set on A closes B's read-only stream door too.
    expect((await alice.request('ban', { room_id: 'den', mask: '*@127.0.0.*' })).type).toBe('ban_changed');
    const sse = await SseTestClient.open(`http://127.0.0.1:${b.port}/stream?room=den`);
    closers.push(() => sse.req.destroy());
    expect(sse.status).toBe(403);
  });
});

describe('server operators across nodes', () => {
  it('a server operator on node A kicks in a room it is not in and kills a user on node B', async () => {
    const a = await node(['--operators', 'root']);
    const b = await node(['--operators', 'root']);
    const root = await client(a, 'root', 'root password');
    const bob = await client(b, 'bob');
    const carol = await client(b, 'carol');
    await bob.request('join', { room_id: 'yard' });
    await carol.request('join', { room_id: 'yard' });
    const kicked = await root.request('kick', { room_id: 'yard', user_name: 'carol', reason: 'out' });
    expect(kicked).toMatchObject({ type: 'user_left', payload: { user_name: 'carol', kicked_by: 'root' } });
    expect((await carol.next((m) => m.type === 'user_left')).payload).toMatchObject({ kicked_by: 'root' });
    const killed = await root.request('kill', { user_name: 'bob', reason: 'flooding' });
    expect(killed).toMatchObject({
      type: 'killed',
      payload: { user_name: 'bob', by: 'root', reason: 'flooding' },
    });
    expect(await bob.next((m) => m.type === 'error')).toMatchObject({
      payload: { code: 'killed', message: 'killed by root: flooding' },
    });
    await bob.closedByServer();
    await expect
      .poll(async () => code(await root.request('kill', { user_name: 'bob' })))
      .toBe('no_such_user');
  });
});

describe('kills across nodes', () => {
  it('a kill of a user on node B reaches node A as killed_by (IRC: Killed); quit words that read like one do not', async () => {
    const a = await node(['--operators', 'root', '--irc-port', '0']);
    const b = await node(['--operators', 'root']);
    // The operator on A, the victim on B: B ends it on A's word (the node event), A's rooms hear it.
    const root = await client(a, 'root', 'root password');
    const watcher = await client(a, 'watcher');
    await watcher.request('join', { room_id: 'yard' });
    const irc = await IrcTestClient.register(a.ircPort!, 'ircwatch');
    closers.push(() => irc.close());
    irc.send('JOIN #yard');
    await irc.wait(/ 366 ircwatch #yard /);
    const faker = await client(b, 'faker');
    await faker.request('join', { room_id: 'yard' });
    faker.send('quit', { reason: 'killed by root: flooding' });
    const fake = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === 'faker');
    expect(fake.type === 'user_left' && fake.payload.killed_by).toBeUndefined();
    await irc.wait(/^:faker!~u@chat QUIT :Quit: killed by root: flooding$/);
    const bob = await client(b, 'bob');
    await bob.request('join', { room_id: 'yard' });
    expect((await root.request('kill', { user_name: 'bob', reason: 'flooding' })).type).toBe('killed');
    const real = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === 'bob');
    expect(real.payload).toMatchObject({ quit: true, killed_by: 'root', reason: 'killed by root: flooding' });
    await irc.wait(/^:bob!~u@chat QUIT :Killed \(root \(flooding\)\)$/);
  });
});

describe('IRC accounts and invitations across nodes', () => {
  it('extended-join and account-notify show a user of node B logged in on node A; invite-notify reaches an operator on A', async () => {
    const a = await node(['--irc-port', '0']);
    const b = await node();
    const caps = ['extended-join', 'account-notify', 'invite-notify'];
    const owner = await client(b, 'owner', 'owner password');
    expect((await owner.request('create_room', { room_id: 'hall' })).type).toBe('room_created');
    await owner.request('join', { room_id: 'hall' });
    // An operator on node A (registered, logged in on IRC with PASS).
    const reg = await client(a, 'ircop', 'ircop password');
    reg.send('quit', {});
    await reg.closedByServer();
    // The nick is free once Redis has the release: the IRC login is tried again until then.
    let op: IrcTestClient | undefined;
    for (let i = 0; i < 50 && op === undefined; i++) {
      const c = await IrcTestClient.connect(a.ircPort!);
      c.send('CAP LS 302');
      c.send('PASS :ircop password');
      c.send('NICK ircop');
      c.send('USER ircop 0 * :ircop');
      c.send(`CAP REQ :${caps.join(' ')}`);
      c.send('CAP END');
      if (/ 001 /.test(await c.wait(/ (001|433|464) /))) op = c;
      else c.close();
    }
    if (op === undefined) throw new Error('ircop never got its nick back');
    closers.push(() => op.close());
    op.send('JOIN #hall');
    await op.wait(/ 366 ircop #hall /);
    expect(
      (await owner.request('role', { room_id: 'hall', user_name: 'ircop', role: 'operator' })).type,
    ).toBe('role_changed');
    await op.wait(/ MODE #hall \+o ircop$/);

    const carol = await client(b, 'carol');
    await carol.request('join', { room_id: 'hall' });
    await op.wait(/^:carol!~u@chat JOIN #hall \* carol$/);
    expect((await carol.request('register', { password: 'carol password' })).type).toBe('registered');
    await op.wait(/^:carol!~u@chat ACCOUNT carol$/);
    const dave = await client(b, 'dave', 'dave password');
    await dave.request('join', { room_id: 'hall' });
    await op.wait(/^:dave!~u@chat JOIN #hall dave dave$/);

    const erin = await client(b, 'erin');
    expect((await owner.request('invite', { room_id: 'hall', user_name: 'erin' })).type).toBe('invited');
    await op.wait(/^:owner!~u@chat INVITE erin #hall$/);
    expect((await erin.next((m) => m.type === 'invited')).payload).toMatchObject({ by: 'owner' });
  });
});

describe('invitations across nodes', () => {
  it('an invitation made on node A lets bob on node B into an invite-only room, once', async () => {
    const a = await node();
    const b = await node();
    const alice = await client(a, 'alice', 'correct horse');
    expect((await alice.request('create_room', { room_id: 'club' })).type).toBe('room_created');
    await alice.request('join', { room_id: 'club' });
    expect((await alice.request('mode', { room_id: 'club', modes: '+i' })).type).toBe('modes_changed');
    const bob = await client(b, 'bob');
    const carol = await client(b, 'carol');
    // Node B has not opened the room yet: the invitation opens it there.
    const invited = await alice.request('invite', { room_id: 'club', user_name: 'bob' });
    expect(invited).toMatchObject({
      type: 'invited',
      payload: { room_id: 'club', user_name: 'bob', by: 'alice' },
    });
    expect((await bob.next((m) => m.type === 'invited')).payload).toMatchObject({
      room_id: 'club',
      by: 'alice',
    });
    expect((await bob.request('join', { room_id: 'club' })).type).toBe('joined');
    expect(code(await carol.request('join', { room_id: 'club' }))).toBe('invite_only');
    expect((await bob.request('leave', { room_id: 'club' })).type).toBe('user_left');
    expect(code(await bob.request('join', { room_id: 'club' }))).toBe('invite_only');
  });
});

describe('away and whois across nodes', () => {
  it('users, whois and DMs on node A show the away message of bob on node B; DM actions stay actions', async () => {
    const a = await node();
    const b = await node();
    const alice = await client(a, 'alice');
    const bob = await client(b, 'bob', 'bobs password');
    await alice.request('join', { room_id: 'den' });
    await bob.request('join', { room_id: 'den' });
    await bob.request('join', { room_id: 'secret' });

    expect((await bob.request('away', { message: 'at lunch' })).type).toBe('user_away');
    const heard = await alice.next((m) => m.type === 'user_away');
    expect(heard.payload).toMatchObject({ room_id: 'den', user_name: 'bob', message: 'at lunch' });
    const users = await alice.request('users', { room_id: 'den' });
    expect((users.payload as { members: unknown[] }).members).toEqual([
      { user_name: 'alice' },
      { user_name: 'bob', away: 'at lunch' },
    ]);

    const sent = await alice.request('dm', { to: 'bob', message: 'waves', kind: 'action' });
    expect(sent.payload).toMatchObject({ to: 'bob', kind: 'action' });
    const got = await bob.next((m) => m.type === 'dm');
    expect(got.payload).toMatchObject({ from: 'alice', message: 'waves', kind: 'action' });
    const answered = await alice.next((m) => m.type === 'user_away' && m.payload.room_id === undefined);
    expect(answered.payload).toEqual({ user_name: 'bob', message: 'at lunch' });

    const whois = await alice.request('whois', { user_name: 'BOB' });
    expect(whois.type).toBe('whois');
    expect(whois.payload).toMatchObject({
      user_name: 'bob',
      registered: true,
      away: 'at lunch',
      rooms: ['den'],
    });
    const p = whois.payload as { idle_ms: number; connected_ts: number };
    expect(p.idle_ms).toBeGreaterThanOrEqual(0);
    expect(p.connected_ts).toBeLessThanOrEqual(Date.now());

    // Back: nothing away any more, on either node.
    await bob.request('away', {});
    await alice.next((m) => m.type === 'user_away' && m.payload.message === undefined);
    const after = await alice.request('users', { room_id: 'den' });
    expect((after.payload as { members: unknown[] }).members).toEqual([
      { user_name: 'alice' },
      { user_name: 'bob' },
    ]);
    expect(code(await alice.request('whois', { user_name: 'nobody' }))).toBe('no_such_user');
  });
});

describe('--redis with a local store flag', () => {
  it.each([
    [['--memory'], '--memory'],
    [['--data-dir', '/tmp/nowhere'], '--data-dir'],
  ])('%j is refused with a clear message', (args, flag) => {
    const result = spawnSync(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--redis', 'redis://127.0.0.1:1', ...args],
      { encoding: 'utf8', timeout: 25_000 },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `chat: ${flag} cannot go with --redis: a cluster node keeps no local data; everything is in Redis\n`,
    );
  });
});
