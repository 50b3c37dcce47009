import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Topics and room moderation (issue 14) over the real doors: every request and refusal over
 * WebSocket, the kicked user's and the others' view over WebSocket and TCP, bans through WS, TCP,
 * POST and SSE, +i/+m/+t, and a server operator (`--operators root`).
 */

let server: RunningServer;
const clients: { close(): void }[] = [];
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  server = await startTestServer({
    tcpPort: 0,
    store: new MemoryStore(),
    rateLimit: false,
    presenceLimit: false,
    presenceAddressLimit: false,
    readLimit: false,
    readAddressLimit: false,
    passwordLimit: false,
    roomCreateLimit: false,
    roomCreateAddressLimit: false,
    operators: ['root', 'sysop'],
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function guest(nick: string): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  expect((await c.hello(nick)).type).toBe('welcome');
  return c;
}

/** A nick registered with a password on this connection (so it counts as registered). */
async function registered(nick: string): Promise<TestClient> {
  const c = await guest(nick);
  expect((await c.request('register', { password: PASSWORD })).type).toBe('registered');
  return c;
}

async function join(c: TestClient, room: string): Promise<Extract<ServerMessage, { type: 'joined' }>> {
  const reply = await c.request('join', { room_id: room });
  expect(reply.type, JSON.stringify(reply)).toBe('joined');
  return reply as Extract<ServerMessage, { type: 'joined' }>;
}

function errorCode(reply: ServerMessage): string | undefined {
  return reply.type === 'error' ? reply.payload.code : undefined;
}

let rootClient: TestClient | undefined;
/** The server operator `root`, registered (so identified with its password) on first use. */
async function root(): Promise<TestClient> {
  rootClient ??= await registered('root');
  return rootClient;
}

const post = (body: unknown): Promise<Response> =>
  fetch(`${server.httpUrl}/post`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('owner, topic and modes', () => {
  it('a registered creator owns the room; a guest creator owns nothing, its session operates it', async () => {
    const alice = await registered('alice1');
    const created = await join(alice, 'owned1');
    expect(created.payload.roles).toEqual({ alice1: 'owner' });
    expect(created.payload.modes).toEqual({ topic_locked: false, invite_only: false, moderated: false });
    const g = await guest('guest1');
    const made = await join(g, 'unowned1');
    expect(made.payload.roles).toEqual({ guest1: 'operator' });
    expect((await g.request('mode', { room_id: 'unowned1', modes: '+m' })).type).toBe('modes_changed');
    // Not stored: the session operator is not a nick, so the listing has no owner nor operators.
    const modes = await g.request('mode', { room_id: 'unowned1' });
    expect(modes).toMatchObject({ type: 'modes', payload: { owner: null, operators: [], voiced: [] } });
    // The creation time: the same instant the room's epoch names (joined.epoch, base 36).
    expect(modes.type === 'modes' && modes.payload.created_ts).toBe(parseInt(made.payload.epoch ?? '', 36));
    expect(Math.abs(Date.now() - parseInt(made.payload.epoch ?? '', 36))).toBeLessThan(60_000);
  });

  it('the topic is a seq-numbered room line, kept by the room, sent in joined and asked with topic', async () => {
    const alice = await registered('alice2');
    await join(alice, 'topics');
    const bob = await guest('bob2');
    await join(bob, 'topics');
    expect(await bob.request('topic', { room_id: 'topics' })).toMatchObject({
      type: 'topic',
      payload: { room_id: 'topics', topic: null },
    });
    const set = await bob.request('topic', { room_id: 'topics', topic: '  release \x1b[31mfriday ' });
    expect(set).toMatchObject({
      type: 'message',
      payload: { room_id: 'topics', kind: 'topic', message: 'release friday', user_name: 'bob2' },
    });
    const seq = (set as Extract<ServerMessage, { type: 'message' }>).payload.seq;
    await alice.next((m) => m.type === 'message' && m.payload.kind === 'topic');
    expect(await alice.request('topic', { room_id: 'topics' })).toMatchObject({
      payload: { topic: { text: 'release friday', set_by: 'bob2' } },
    });
    const carol = await guest('carol2');
    const joined = await join(carol, 'topics');
    expect(joined.payload.topic).toMatchObject({ text: 'release friday', set_by: 'bob2' });
    // A resuming client replays the topic line from history.
    const resumer = await guest('dan2');
    await resumer.request('join', { room_id: 'topics', since_seq: seq - 1 });
    await resumer.next(
      (m) => m.type === 'history' && m.payload.messages.some((x) => x.kind === 'topic' && x.seq === seq),
    );
    // Cleared with an empty topic.
    expect(await bob.request('topic', { room_id: 'topics', topic: '' })).toMatchObject({
      payload: { kind: 'topic', message: '' },
    });
    expect(await bob.request('topic', { room_id: 'topics' })).toMatchObject({ payload: { topic: null } });
  });

  it('+t locks the topic to operators; mode changes reach every member', async () => {
    const alice = await registered('alice3');
    await join(alice, 'locked');
    const bob = await guest('bob3');
    await join(bob, 'locked');
    expect(errorCode(await bob.request('mode', { room_id: 'locked', modes: '+t' }))).toBe('not_operator');
    const changed = await alice.request('mode', { room_id: 'locked', modes: '+t' });
    expect(changed).toMatchObject({
      type: 'modes_changed',
      payload: { modes: { topic_locked: true, invite_only: false, moderated: false }, by: 'alice3' },
    });
    await bob.next((m) => m.type === 'modes_changed' && m.payload.modes.topic_locked);
    expect(errorCode(await bob.request('topic', { room_id: 'locked', topic: 'mine now' }))).toBe(
      'topic_locked',
    );
    expect((await alice.request('topic', { room_id: 'locked', topic: 'ops only' })).type).toBe('message');
    expect(errorCode(await bob.request('mode', { room_id: 'locked', modes: '+x' }))).toBe('bad_modes');
    expect(errorCode(await bob.request('topic', { room_id: 'locked', topic: 'x'.repeat(391) }))).toBe(
      'bad_topic',
    );
    const outsider = await guest('out3');
    expect(errorCode(await outsider.request('topic', { room_id: 'locked', topic: 'hi' }))).toBe(
      'not_in_room',
    );
  });
});

describe('operators and voice', () => {
  it('a rename tells the room the role of the new nick: a standing operator loses @ away from its registered nick, a session operator keeps it', async () => {
    const alice = await registered('alice21');
    await join(alice, 'renamed-op');
    const carol = await registered('carol21');
    await join(carol, 'renamed-op');
    const bob = await guest('bob21');
    await join(bob, 'renamed-op');
    await alice.request('role', { room_id: 'renamed-op', user_name: 'carol21', role: 'operator' });
    await bob.next((m) => m.type === 'role_changed' && m.payload.user_name === 'carol21');

    expect((await carol.request('nick', { user_name: 'carol21away' })).type).toBe('nick_changed');
    const away = await bob.next((m) => m.type === 'nick_changed' && m.payload.user_name === 'carol21away');
    expect(away.payload).toEqual({
      room_id: 'renamed-op',
      old_name: 'carol21',
      user_name: 'carol21away',
      role: null,
    });
    // Not an operator under a guest nick: what the room said is what it enforces.
    expect(
      errorCode(await carol.request('role', { room_id: 'renamed-op', user_name: 'bob21', role: 'voice' })),
    ).toBe('not_operator');
    // A session operator's status is the session's: it keeps it across a rename, and is told so.
    const dave = await guest('dave21');
    await join(dave, 'renamed-op-guest');
    expect((await dave.request('nick', { user_name: 'dave21b' })).type).toBe('nick_changed');
    const own = await dave.next((m) => m.type === 'nick_changed' && m.payload.room_id === 'renamed-op-guest');
    expect(own.payload).toMatchObject({ user_name: 'dave21b', role: 'operator' });
  });

  it('the owner grants operator status to registered nicks only; operators voice; nobody demotes the owner', async () => {
    const alice = await registered('alice4');
    await join(alice, 'roles');
    const bob = await guest('bob4');
    await join(bob, 'roles');
    const carol = await registered('carol4');
    await join(carol, 'roles');
    const dave = await registered('dave4');
    await join(dave, 'roles');

    expect(
      errorCode(await bob.request('role', { room_id: 'roles', user_name: 'carol4', role: 'operator' })),
    ).toBe('not_operator');
    expect(
      errorCode(await alice.request('role', { room_id: 'roles', user_name: 'bob4', role: 'operator' })),
    ).toBe('not_registered');
    const opped = await alice.request('role', { room_id: 'roles', user_name: 'carol4', role: 'operator' });
    expect(opped).toMatchObject({
      type: 'role_changed',
      payload: { user_name: 'carol4', role: 'operator', by: 'alice4' },
    });
    await bob.next((m) => m.type === 'role_changed' && m.payload.user_name === 'carol4');
    // An operator voices, but only the owner makes operators.
    expect(
      errorCode(await carol.request('role', { room_id: 'roles', user_name: 'dave4', role: 'operator' })),
    ).toBe('not_owner');
    expect(await carol.request('role', { room_id: 'roles', user_name: 'bob4', role: 'voice' })).toMatchObject(
      {
        type: 'role_changed',
        payload: { role: 'voice' },
      },
    );
    expect(
      errorCode(await carol.request('role', { room_id: 'roles', user_name: 'alice4', role: 'none' })),
    ).toBe('protected_user');
    expect(
      errorCode(await carol.request('role', { room_id: 'roles', user_name: 'nobody4', role: 'voice' })),
    ).toBe('no_such_user');
    const users = await dave.request('users', { room_id: 'roles' });
    expect(users).toMatchObject({
      payload: { roles: { alice4: 'owner', carol4: 'operator', bob4: 'voice' } },
    });
    const modes = await dave.request('mode', { room_id: 'roles' });
    expect(modes).toMatchObject({ payload: { owner: 'alice4', operators: ['carol4'], voiced: ['bob4'] } });
    // deop takes it away again.
    expect(
      await alice.request('role', { room_id: 'roles', user_name: 'carol4', role: 'none' }),
    ).toMatchObject({
      payload: { role: null },
    });
    expect(errorCode(await carol.request('mode', { room_id: 'roles', modes: '+m' }))).toBe('not_operator');
  });

  it('+m: only operators and voiced users speak, through WebSocket and POST', async () => {
    const alice = await registered('alice5');
    await join(alice, 'quiet');
    const bob = await guest('bob5');
    await join(bob, 'quiet');
    const eve = await guest('eve5');
    await join(eve, 'quiet');
    await alice.request('role', { room_id: 'quiet', user_name: 'bob5', role: 'voice' });
    await alice.request('mode', { room_id: 'quiet', modes: '+m' });
    expect(errorCode(await eve.request('message', { room_id: 'quiet', message: 'hey' }))).toBe('moderated');
    expect((await bob.request('message', { room_id: 'quiet', message: 'voiced' })).type).toBe('message');
    expect((await alice.request('message', { room_id: 'quiet', message: 'owner' })).type).toBe('message');
    const res = await post({ username: 'poster5', content: 'hi', room: 'quiet' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'moderated' });
    await alice.request('mode', { room_id: 'quiet', modes: '-m' });
    expect((await eve.request('message', { room_id: 'quiet', message: 'free' })).type).toBe('message');
  });
});

describe('kicks', () => {
  it('an operator kicks with a reason: the kicked user and the others see who and why', async () => {
    const alice = await registered('alice6');
    await join(alice, 'kicks');
    const bob = await guest('bob6');
    await join(bob, 'kicks');
    const carol = await guest('carol6');
    await join(carol, 'kicks');
    expect(errorCode(await carol.request('kick', { room_id: 'kicks', user_name: 'bob6' }))).toBe(
      'not_operator',
    );
    expect(errorCode(await carol.request('kick', { room_id: 'kicks', user_name: 'alice6' }))).toBe(
      'not_operator',
    );
    const reply = await alice.request('kick', { room_id: 'kicks', user_name: 'bob6', reason: 'spamming' });
    const expected = { room_id: 'kicks', user_name: 'bob6', reason: 'spamming', kicked_by: 'alice6' };
    expect(reply).toMatchObject({ type: 'user_left', payload: expected });
    expect((await bob.next((m) => m.type === 'user_left' && m.payload.user_name === 'bob6')).payload).toEqual(
      expected,
    );
    expect(
      (await carol.next((m) => m.type === 'user_left' && m.payload.user_name === 'bob6')).payload,
    ).toEqual(expected);
    expect(errorCode(await bob.request('message', { room_id: 'kicks', message: 'still here?' }))).toBe(
      'not_in_room',
    );
    expect((await carol.request('users', { room_id: 'kicks' })).payload).toMatchObject({
      users: ['alice6', 'carol6'],
    });
    expect(errorCode(await alice.request('kick', { room_id: 'kicks', user_name: 'bob6' }))).toBe(
      'no_such_user',
    );
    // A kick is not a ban: bob may come back.
    await join(bob, 'kicks');
  });

  it('an operator cannot kick the owner', async () => {
    const alice = await registered('alice7');
    await join(alice, 'kick-owner');
    const carol = await registered('carol7');
    await join(carol, 'kick-owner');
    await alice.request('role', { room_id: 'kick-owner', user_name: 'carol7', role: 'operator' });
    expect(errorCode(await carol.request('kick', { room_id: 'kick-owner', user_name: 'alice7' }))).toBe(
      'protected_user',
    );
  });
});

describe('bans', () => {
  it('a nick ban removes the member and refuses it through WebSocket, POST and TCP until lifted', async () => {
    const alice = await registered('alice8');
    await join(alice, 'bans');
    const eve = await guest('eve8');
    await join(eve, 'bans');
    const bob = await guest('bob8');
    expect(errorCode(await bob.request('ban', { room_id: 'bans', mask: 'eve8' }))).toBe('not_in_room');
    await join(bob, 'bans');
    expect(errorCode(await bob.request('ban', { room_id: 'bans', mask: 'eve8' }))).toBe('not_operator');
    expect(errorCode(await alice.request('ban', { room_id: 'bans', mask: 'a@b' }))).toBe('bad_mask');
    expect(errorCode(await alice.request('ban', { room_id: 'bans', mask: '10.0.0.0/99' }))).toBe('bad_mask');
    const banned = await alice.request('ban', { room_id: 'bans', mask: 'eve8' });
    expect(banned).toMatchObject({
      type: 'ban_changed',
      payload: { mask: 'eve8', banned: true, by: 'alice8' },
    });
    await eve.next(
      (m) => m.type === 'user_left' && m.payload.user_name === 'eve8' && m.payload.kicked_by === 'alice8',
    );
    expect(errorCode(await eve.request('join', { room_id: 'bans' }))).toBe('banned');
    const list = await alice.request('ban', { room_id: 'bans' });
    expect(list).toMatchObject({ type: 'bans', payload: { bans: [{ mask: 'eve8', set_by: 'alice8' }] } });
    // eve's WebSocket gives the nick up, then POST and TCP try it.
    expect((await eve.request('nick', { user_name: 'eve8b' })).type).toBe('nick_changed');
    const res = await post({ username: 'Eve8', content: 'sneaky', room: 'bans' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'banned' });
    const tcp = await TcpTestClient.login(server.tcpPort!, 'eve8');
    clients.push({ close: () => tcp.socket.destroy() });
    tcp.write('/join bans\n');
    await tcp.waitLine((l) => l.includes('error') && l.includes('banned'));
    // Lifted: in again.
    expect(await alice.request('unban', { room_id: 'bans', mask: 'eve8' })).toMatchObject({
      type: 'ban_changed',
      payload: { banned: false },
    });
    tcp.write('/join bans\n');
    await tcp.waitLine('*** you joined #bans');
  });

  it('an address ban holds whatever nick the client takes, through every door', async () => {
    const alice = await registered('alice9');
    await join(alice, 'addr');
    const bob = await guest('bob9');
    await join(bob, 'addr');
    const banned = await alice.request('ban', { room_id: 'addr', mask: '*@127.0.0.*' });
    expect(banned).toMatchObject({ type: 'ban_changed', payload: { mask: '*@127.0.0.*' } });
    await bob.next(
      (m) => m.type === 'user_left' && m.payload.user_name === 'bob9' && m.payload.reason === 'banned',
    );
    expect((await bob.request('nick', { user_name: 'notbob9' })).type).toBe('nick_changed');
    expect(errorCode(await bob.request('join', { room_id: 'addr' }))).toBe('banned');
    const res = await post({ username: 'whoever9', content: 'hi', room: 'addr' });
    expect(res.status).toBe(403);
    const sse = await SseTestClient.open(`${server.httpUrl}/stream?room=addr`);
    clients.push({ close: () => sse.req.destroy() });
    expect(sse.status).toBe(403);
    const tcp = await TcpTestClient.login(server.tcpPort!, 'tcp9');
    clients.push({ close: () => tcp.socket.destroy() });
    tcp.write('/join addr\n');
    await tcp.waitLine((l) => l.includes('banned'));
    // The owner is never kept out by a ban; a CIDR ban works the same way.
    await alice.request('unban', { room_id: 'addr', mask: '*@127.0.0.*' });
    expect((await alice.request('ban', { room_id: 'addr', mask: '127.0.0.0/8' })).type).toBe('ban_changed');
    expect(errorCode(await bob.request('join', { room_id: 'addr' }))).toBe('banned');
    await alice.request('unban', { room_id: 'addr', mask: '127.0.0.0/8' });
    await join(bob, 'addr');
  });
  it('a member who renames into a banned nick cannot speak', async () => {
    const alice = await registered('alice15');
    await join(alice, 'renames');
    const bob = await guest('bob15');
    await join(bob, 'renames');
    await alice.request('ban', { room_id: 'renames', mask: 'evil15' });
    expect((await bob.request('nick', { user_name: 'evil15' })).type).toBe('nick_changed');
    expect(errorCode(await bob.request('message', { room_id: 'renames', message: 'hi' }))).toBe('banned');
  });
});

describe('invite-only', () => {
  it('+i admits only the invited (once), operators and server operators', async () => {
    const alice = await registered('alice10');
    await join(alice, 'private');
    await alice.request('mode', { room_id: 'private', modes: '+i' });
    const bob = await guest('bob10');
    expect(errorCode(await bob.request('join', { room_id: 'private' }))).toBe('invite_only');
    const res = await post({ username: 'poster10', content: 'hi', room: 'private' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'invite_only' });
    const sse = await SseTestClient.open(`${server.httpUrl}/stream?room=private`);
    clients.push({ close: () => sse.req.destroy() });
    expect(sse.status).toBe(403);
    expect(errorCode(await alice.request('invite', { room_id: 'private', user_name: 'ghost10' }))).toBe(
      'no_such_user',
    );
    const invited = await alice.request('invite', { room_id: 'private', user_name: 'bob10' });
    expect(invited).toMatchObject({
      type: 'invited',
      payload: { room_id: 'private', user_name: 'bob10', by: 'alice10' },
    });
    await bob.next((m) => m.type === 'invited');
    await join(bob, 'private');
    await bob.request('leave', { room_id: 'private' });
    // The invitation was used up by the join.
    expect(errorCode(await bob.request('join', { room_id: 'private' }))).toBe('invite_only');
    await join(await root(), 'private');
  });
});

describe('server operators', () => {
  it('act in a room they are not in, and only once identified with the password', async () => {
    const alice = await registered('alice11');
    await join(alice, 'srv');
    const bob = await guest('bob11');
    await join(bob, 'srv');
    // sysop is named by --operators but not registered: a guest holding the nick has no powers.
    const sysop = await guest('sysop');
    expect(errorCode(await sysop.request('kick', { room_id: 'srv', user_name: 'bob11' }))).toBe(
      'not_in_room',
    );
    await join(sysop, 'srv');
    expect(errorCode(await sysop.request('kick', { room_id: 'srv', user_name: 'bob11' }))).toBe(
      'not_operator',
    );
    expect(errorCode(await sysop.request('kill', { user_name: 'bob11' }))).toBe('not_server_operator');
  });

  it('kick in any room, change its modes, and kill', async () => {
    const alice = await registered('alice12');
    await join(alice, 'srv2');
    const bob = await guest('bob12');
    await join(bob, 'srv2');
    const carol = await guest('carol12');
    await join(carol, 'srv2');
    const op = await root();
    expect(errorCode(await bob.request('kill', { user_name: 'carol12' }))).toBe('not_server_operator');
    expect(errorCode(await alice.request('kill', { user_name: 'carol12' }))).toBe('not_server_operator');
    expect(await op.request('mode', { room_id: 'srv2', modes: '+m' })).toMatchObject({
      type: 'modes_changed',
    });
    expect(
      await op.request('kick', { room_id: 'srv2', user_name: 'alice12', reason: 'even owners' }),
    ).toMatchObject({ type: 'user_left', payload: { user_name: 'alice12', kicked_by: 'root' } });
    const killed = await op.request('kill', { user_name: 'bob12', reason: 'flooding' });
    expect(killed).toMatchObject({
      type: 'killed',
      payload: { user_name: 'bob12', by: 'root', reason: 'flooding' },
    });
    expect(await bob.next((m) => m.type === 'error' && m.payload.code === 'killed')).toMatchObject({
      payload: { message: 'killed by root: flooding' },
    });
    await bob.closedByServer();
    const left = await carol.next((m) => m.type === 'user_left' && m.payload.user_name === 'bob12');
    expect((left as Extract<ServerMessage, { type: 'user_left' }>).payload.reason).toBe(
      'killed by root: flooding',
    );
    expect(errorCode(await op.request('kill', { user_name: 'bob12' }))).toBe('no_such_user');
  });
});

describe('the TCP door', () => {
  it('shows topics, roles, modes and kicks as IRC users read them', async () => {
    const alice = await registered('alice13');
    await join(alice, 'lines');
    const bob = await TcpTestClient.login(server.tcpPort!, 'bob13');
    clients.push({ close: () => bob.socket.destroy() });
    const dave = await TcpTestClient.login(server.tcpPort!, 'dave13');
    clients.push({ close: () => dave.socket.destroy() });
    for (const c of [bob, dave]) {
      c.write('/join lines\n');
      await c.waitLine((l) => l.startsWith('*** you joined #lines') && l.includes('@alice13'));
    }
    await alice.request('topic', { room_id: 'lines', topic: 'ship it' });
    await bob.waitLine((l) => l.endsWith('#lines -- alice13 set the topic: ship it'));
    dave.write('/topic\n');
    await dave.waitLine((l) => l.startsWith('#lines -- topic: ship it (set by alice13'));
    await alice.request('role', { room_id: 'lines', user_name: 'dave13', role: 'voice' });
    await bob.waitLine('#lines -- alice13 gave dave13 voice');
    bob.write('/users\n');
    await bob.waitLine(
      (l) => l.startsWith('*** in #lines:') && l.includes('@alice13') && l.includes('+dave13'),
    );
    bob.write('/mode +m\n');
    await bob.waitLine((l) => l.startsWith('*** error:') && l.includes('not an operator'));
    await alice.request('mode', { room_id: 'lines', modes: '+m' });
    await bob.waitLine('#lines -- alice13 set the modes: +m');
    await alice.request('kick', { room_id: 'lines', user_name: 'bob13', reason: 'spamming' });
    await dave.waitLine('#lines -- bob13 was kicked by alice13 (spamming)');
    await bob.waitLine('#lines -- you were kicked by alice13 (spamming)');
    // bob's current room is gone: a plain line goes nowhere it was kicked from.
    await bob.waitLine((l) => l.includes('you are in no room now') || l.includes('now talking in #lobby'));
  });
});

describe('SSE', () => {
  it('a stream carries a topic change', async () => {
    const alice = await registered('alice14');
    await join(alice, 'streamed');
    const sse = await SseTestClient.open(`${server.httpUrl}/stream?room=streamed`);
    clients.push({ close: () => sse.req.destroy() });
    await sse.waitEvent('joined');
    await alice.request('topic', { room_id: 'streamed', topic: 'live now' });
    const e = await sse.waitEvent('message', (x) => x.data.includes('live now'));
    expect(JSON.parse(e.data)).toMatchObject({
      payload: { kind: 'topic', message: 'live now', user_name: 'alice14' },
    });
  });
});
