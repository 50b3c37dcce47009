import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { IrcTestClient } from '../helpers/irc-client.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * A guest who makes a room is its operator for as long as its session stays in it (IRC's channel
 * creator): over WebSocket and the IRC door of one node, on SQLite. Never granted to the nick:
 * leaving, a kick or a disconnect ends it, and the next holder of the nick gets nothing.
 */

let server: TestServer;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
const PASSWORD = 'correct horse battery';
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

const LIMITS_OFF = {
  rateLimit: false,
  presenceLimit: false,
  presenceAddressLimit: false,
  readLimit: false,
  readAddressLimit: false,
  passwordLimit: false,
  roomCreateLimit: false,
  roomCreateAddressLimit: false,
} as const;

beforeAll(async () => {
  server = await startTestServer({ onDisk: true, ircPort: 0, ...LIMITS_OFF });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function guest(name: string, url = server.url): Promise<TestClient> {
  const c = track(await TestClient.open(url));
  expect((await c.hello(name)).type).toBe('welcome');
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

const code = (reply: ServerMessage): string => (reply.type === 'error' ? reply.payload.code : reply.type);

describe('a guest who creates a room operates it (WebSocket)', () => {
  it('by join: operator in joined and users; kicks, sets modes, a locked topic, invites and bans', async () => {
    const room = nick('made');
    const alice = await guest(nick('alice'));
    const joined = await join(alice, room);
    expect(joined.roles).toEqual({ [joined.members[0]!]: 'operator' });
    const bobNick = nick('bob');
    const bob = await guest(bobNick);
    const bobJoined = await join(bob, room);
    expect(bobJoined.roles?.[joined.members[0]!]).toBe('operator');
    expect(bobJoined.roles?.[bobNick]).toBeUndefined();
    // Bob joined an existing room: nothing for him.
    expect(code(await bob.request('kick', { room_id: room, user_name: joined.members[0] }))).toBe(
      'not_operator',
    );
    expect(code(await alice.request('mode', { room_id: room, modes: '+t' }))).toBe('modes_changed');
    expect(code(await bob.request('topic', { room_id: room, topic: 'mine' }))).toBe('topic_locked');
    expect(code(await alice.request('topic', { room_id: room, topic: 'ours' }))).toBe('message');
    expect(code(await alice.request('role', { room_id: room, user_name: bobNick, role: 'voice' }))).toBe(
      'role_changed',
    );
    expect(code(await alice.request('kick', { room_id: room, user_name: bobNick, reason: 'out' }))).toBe(
      'user_left',
    );
    expect(code(await alice.request('mode', { room_id: room, modes: '+i' }))).toBe('modes_changed');
    expect(code(await bob.request('join', { room_id: room }))).toBe('invite_only');
    expect(code(await alice.request('invite', { room_id: room, user_name: bobNick }))).toBe('invited');
    await join(bob, room);
    expect(code(await alice.request('ban', { room_id: room, mask: bobNick }))).toBe('ban_changed');
    expect(code(await bob.request('join', { room_id: room }))).toBe('banned');
  });

  it('by create_room too; a nick change keeps it', async () => {
    const room = nick('created');
    const alice = await guest(nick('alice'));
    expect(code(await alice.request('create_room', { room_id: room }))).toBe('room_created');
    const joined = (await alice.next((m) => m.type === 'joined' && m.payload.room_id === room)) as Extract<
      ServerMessage,
      { type: 'joined' }
    >;
    const me = joined.payload.members[0]!;
    expect(joined.payload.roles).toEqual({ [me]: 'operator' });
    const renamed = nick('alicia');
    expect(code(await alice.request('nick', { user_name: renamed }))).toBe('nick_changed');
    expect(await roles(alice, room)).toEqual({ [renamed]: 'operator' });
    const bobNick = nick('bob');
    const bob = await guest(bobNick);
    await join(bob, room);
    expect(code(await alice.request('kick', { room_id: room, user_name: bobNick }))).toBe('user_left');
  });

  it('ends when the session leaves or disconnects, and never passes to the nick', async () => {
    const room = nick('brief');
    const aliceNick = nick('alice');
    const alice = await guest(aliceNick);
    await join(alice, room);
    const bobNick = nick('bob');
    const bob = await guest(bobNick);
    await join(bob, room);
    expect(await roles(bob, room)).toEqual({ [aliceNick]: 'operator' });
    // Leaving ends it: back in, alice is a plain member.
    expect(code(await alice.request('leave', { room_id: room }))).toBe('user_left');
    expect((await join(alice, room)).roles).toEqual({});
    expect(code(await alice.request('kick', { room_id: room, user_name: bobNick }))).toBe('not_operator');

    // A disconnect ends it too: whoever takes the nick next gets nothing.
    const room2 = nick('brief');
    const carolNick = nick('carol');
    const carol = await guest(carolNick);
    expect((await join(carol, room2)).roles).toEqual({ [carolNick]: 'operator' });
    await join(bob, room2);
    carol.close();
    await bob.next((m) => m.type === 'user_left' && m.payload.room_id === room2);
    const carol2 = await guest(carolNick);
    expect((await join(carol2, room2)).roles).toEqual({});
    expect(code(await carol2.request('kick', { room_id: room2, user_name: bobNick }))).toBe('not_operator');
  });

  it('an operator of an ownerless room gives operator status for the session; a kick ends it', async () => {
    const room = nick('shared');
    const aliceNick = nick('alice');
    const alice = await guest(aliceNick);
    await join(alice, room);
    const bobNick = nick('bob');
    const bob = await guest(bobNick);
    await join(bob, room);
    const carolNick = nick('carol');
    const carol = await guest(carolNick);
    await join(carol, room);
    expect(code(await alice.request('role', { room_id: room, user_name: bobNick, role: 'operator' }))).toBe(
      'role_changed',
    );
    expect(await roles(carol, room)).toEqual({ [aliceNick]: 'operator', [bobNick]: 'operator' });
    // Bob operates now, also on his maker: session operators are not protected from each other.
    expect(code(await bob.request('mode', { room_id: room, modes: '+m' }))).toBe('modes_changed');
    expect(code(await bob.request('role', { room_id: room, user_name: aliceNick, role: 'none' }))).toBe(
      'role_changed',
    );
    expect(code(await alice.request('kick', { room_id: room, user_name: carolNick }))).toBe('not_operator');
    expect(code(await bob.request('role', { room_id: room, user_name: aliceNick, role: 'operator' }))).toBe(
      'role_changed',
    );
    expect(code(await alice.request('kick', { room_id: room, user_name: bobNick }))).toBe('user_left');
    expect((await join(bob, room)).roles).toEqual({ [aliceNick]: 'operator' });
    expect(code(await bob.request('kick', { room_id: room, user_name: carolNick }))).toBe('not_operator');

    // A registered creator owns its room for good, and operator status there is for registered
    // nicks, given by the owner: not for a guest's session.
    const owned = nick('owned');
    const ownerNick = nick('owner');
    const owner = await guest(ownerNick);
    expect(code(await owner.request('register', { password: PASSWORD }))).toBe('registered');
    expect((await join(owner, owned)).roles).toEqual({ [ownerNick]: 'owner' });
    await join(bob, owned);
    expect(code(await owner.request('role', { room_id: owned, user_name: bobNick, role: 'operator' }))).toBe(
      'not_registered',
    );
  });
});

describe('a guest who creates a channel is its operator (IRC)', () => {
  it('JOIN of a new channel: @ in NAMES and WHO, and its KICK, MODE +o, TOPIC under +t and INVITE succeed', async () => {
    const port = server.ircPort!;
    const chan = `#${nick('irc')}`;
    const fooNick = nick('foo');
    const foo = track(await IrcTestClient.register(port, fooNick));
    foo.send(`JOIN ${chan}`);
    await foo.wait(new RegExp(` 353 ${fooNick} = ${chan} :@${fooNick}$`));
    foo.send(`WHO ${chan}`);
    await foo.wait(new RegExp(` 352 ${fooNick} ${chan} \\S+ \\S+ \\S+ ${fooNick} H@ :`));

    const barNick = nick('bar');
    const bar = track(await IrcTestClient.register(port, barNick));
    bar.send(`JOIN ${chan}`);
    await bar.wait(new RegExp(` 353 ${barNick} = ${chan} :.*@${fooNick}`));
    foo.send(`MODE ${chan} +t`);
    await bar.wait(new RegExp(`MODE ${chan} \\+t$`));
    bar.send(`TOPIC ${chan} :nope`);
    await bar.wait(new RegExp(` 482 ${barNick} ${chan} :`));
    foo.send(`TOPIC ${chan} :set by the creator`);
    await bar.wait(new RegExp(`TOPIC ${chan} :set by the creator$`));
    foo.send(`MODE ${chan} +o ${barNick}`);
    await bar.wait(new RegExp(`:${fooNick}!\\S+ MODE ${chan} \\+o ${barNick}$`));
    bar.send(`MODE ${chan} -o ${fooNick}`);
    await foo.wait(new RegExp(`:${barNick}!\\S+ MODE ${chan} -o ${fooNick}$`));
    bar.send(`KICK ${chan} ${fooNick} :bye`);
    await foo.wait(new RegExp(`KICK ${chan} ${fooNick} :bye$`));

    const bazNick = nick('baz');
    const baz = track(await IrcTestClient.register(port, bazNick));
    bar.send(`MODE ${chan} +i`);
    await bar.wait(new RegExp(`MODE ${chan} \\+i$`));
    bar.send(`INVITE ${bazNick} ${chan}`);
    await bar.wait(new RegExp(` 341 ${barNick} ${bazNick} :?${chan}$`));
    baz.send(`JOIN ${chan}`);
    await baz.wait(new RegExp(` 353 ${bazNick} = ${chan} :.*@${barNick}`));
    // Bar leaves: nobody operates the channel any more, and a new bar is nobody.
    bar.send(`PART ${chan}`);
    await baz.wait(new RegExp(`:${barNick}!\\S+ PART ${chan}`));
    bar.send(`JOIN ${chan}`);
    await bar.wait(new RegExp(` 473 ${barNick} ${chan} :`));
    const from = baz.lines.length;
    baz.send(`NAMES ${chan}`);
    await baz.waitCount(new RegExp(` 366 ${bazNick} ${chan} :`), 2);
    expect(baz.since(from).filter((l) => / 353 /.test(l))).toEqual([
      expect.stringMatching(new RegExp(` 353 ${bazNick} = ${chan} :${bazNick}$`)),
    ]);
  });
  it('a NICK keeps the creator its status; a later -o on the new nick reaches IRC as MODE -o', async () => {
    const port = server.ircPort!;
    const chan = `#${nick('renamed')}`;
    const fooNick = nick('foo');
    const foo = track(await IrcTestClient.register(port, fooNick));
    foo.send(`JOIN ${chan}`);
    await foo.wait(new RegExp(` 353 ${fooNick} = ${chan} :@${fooNick}$`));
    const barNick = nick('bar');
    const bar = track(await IrcTestClient.register(port, barNick));
    bar.send(`JOIN ${chan}`);
    await bar.wait(new RegExp(` 366 ${barNick} ${chan} :`));
    foo.send(`MODE ${chan} +o ${barNick}`);
    await bar.wait(new RegExp(`MODE ${chan} \\+o ${barNick}$`));
    const renamed = nick('fooz');
    foo.send(`NICK ${renamed}`);
    await bar.wait(new RegExp(`:${fooNick}!\\S+ NICK :?${renamed}$`));
    foo.send(`MODE ${chan} +m`);
    await bar.wait(new RegExp(`:${renamed}!\\S+ MODE ${chan} \\+m$`));
    bar.send(`MODE ${chan} -o ${renamed}`);
    await foo.wait(new RegExp(`:${barNick}!\\S+ MODE ${chan} -o ${renamed}$`));
    await bar.wait(new RegExp(`:${barNick}!\\S+ MODE ${chan} -o ${renamed}$`));
    foo.send(`MODE ${chan} -m`);
    await foo.wait(new RegExp(` 482 ${renamed} ${chan} :`));
  });
});
