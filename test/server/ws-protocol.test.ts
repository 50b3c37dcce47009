import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import { TestClient } from '../helpers/ws-client.js';

let server: RunningServer;
const clients: TestClient[] = [];

async function client(): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  return c;
}

const isType = (type: string) => (m: ServerMessage) => m.type === type;

beforeAll(async () => {
  server = await startTestServer({
    store: new MemoryStore(),
    rateLimit: false,
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('the seed-compatible requests, sent verbatim', () => {
  it('create_room, join, message, leave and ping work exactly as written', async () => {
    const artur = await client();
    const michal = await client();
    artur.raw(
      '{"type":"create_room","payload":{"room_id":"room_1","room_name":"hello room","user_id":"Artur","user_name":"Artur"}}',
    );
    const created = await artur.next(isType('room_created'));
    expect(created.payload).toEqual({ room_id: 'room_1', room_name: 'hello room', created_by: 'Artur' });
    await artur.next(isType('joined'));

    michal.raw('{"type":"join","payload":{"room_id":"room_1","user_id":"Michal","user_name":"Michal"}}');
    const joined = await michal.next(isType('joined'));
    expect(joined.payload).toMatchObject({
      room_id: 'room_1',
      room_name: 'hello room',
      members: ['Artur', 'Michal'],
    });
    await artur.next((m) => m.type === 'user_joined' && m.payload.user_name === 'Michal');

    michal.raw('{"type":"message","payload":{"room_id":"room_1","message":"hello everybody"}}');
    for (const c of [artur, michal]) {
      const msg = await c.next(isType('message'));
      expect(msg.payload).toMatchObject({
        room_id: 'room_1',
        seq: 1,
        user_name: 'Michal',
        message: 'hello everybody',
      });
      expect(typeof (msg.payload as { id: unknown }).id).toBe('string');
      expect(typeof (msg.payload as { ts: unknown }).ts).toBe('number');
    }

    michal.raw('{"type":"leave","payload":{"room_id":"room_1"}}');
    await artur.next((m) => m.type === 'user_left' && m.payload.user_name === 'Michal');
    await michal.next((m) => m.type === 'user_left' && m.payload.user_name === 'Michal');

    michal.raw('{"type":"ping","payload":null}');
    await michal.next(isType('pong'));
  });
});

describe('requests', () => {
  it('hello binds the identity once and answers with welcome', async () => {
    const c = await client();
    const welcome = await c.request('hello', { user_name: 'hana' });
    expect(welcome).toMatchObject({ type: 'welcome', payload: { user_name: 'hana', default_room: 'lobby' } });
    const again = await c.request('hello', { user_name: 'hana2' });
    expect(again).toMatchObject({ type: 'error', payload: { code: 'already_identified' } });
  });

  it('rooms lists rooms with member counts, including the default room', async () => {
    const c = await client();
    await c.hello('lister');
    await c.request('join', { room_id: 'listed' });
    const reply = await c.request('rooms', null);
    expect(reply.type).toBe('rooms');
    const rooms = (reply.payload as { rooms: { room_id: string; members: number }[] }).rooms;
    expect(rooms.find((r) => r.room_id === 'lobby')).toBeDefined();
    expect(rooms.find((r) => r.room_id === 'listed')).toMatchObject({ members: 1 });
  });

  it('users lists the members of a room', async () => {
    const a = await client();
    const b = await client();
    await a.hello('ua');
    await b.hello('ub');
    await a.request('join', { room_id: 'userlist' });
    await b.request('join', { room_id: 'userlist' });
    const reply = await a.request('users', { room_id: 'userlist' });
    expect(reply).toMatchObject({ type: 'users', payload: { room_id: 'userlist', users: ['ua', 'ub'] } });
  });

  it('join sends the room history before live traffic', async () => {
    const a = await client();
    await a.hello('historian');
    await a.request('join', { room_id: 'hist' });
    for (let i = 0; i < 3; i++) await a.request('message', { room_id: 'hist', message: `m${i}` });
    const b = await client();
    await b.hello('reader');
    b.send('join', { room_id: 'hist' });
    const history = await b.next(isType('history'));
    expect((history.payload as { messages: { message: string }[] }).messages.map((m) => m.message)).toEqual([
      'm0',
      'm1',
      'm2',
    ]);
  });

  it('history pages back before a seq', async () => {
    const a = await client();
    await a.hello('pager');
    await a.request('join', { room_id: 'pages' });
    for (let i = 1; i <= 10; i++) await a.request('message', { room_id: 'pages', message: `p${i}` });
    const page = await a.request('history', { room_id: 'pages', before_seq: 6, limit: 3 });
    expect(page.type).toBe('history');
    const p = page.payload as { messages: { seq: number }[]; has_more: boolean };
    expect(p.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(p.has_more).toBe(true);
  });

  it('nick renames and tells the rooms; the old nick is free again', async () => {
    const a = await client();
    const b = await client();
    await a.hello('oldname');
    await b.hello('watcher');
    await a.request('join', { room_id: 'renames' });
    await b.request('join', { room_id: 'renames' });
    const reply = await a.request('nick', { user_name: 'newname' });
    expect(reply).toMatchObject({
      type: 'nick_changed',
      payload: { old_name: 'oldname', user_name: 'newname' },
    });
    const seen = await b.next((m) => m.type === 'nick_changed');
    expect(seen.payload).toEqual({
      room_id: 'renames',
      old_name: 'oldname',
      user_name: 'newname',
      // It created the room: its operator status is its connection's, and goes with it.
      role: 'operator',
    });
    const c = await client();
    expect(await c.hello('oldname')).toMatchObject({ type: 'welcome' });
  });

  it('nick collisions are refused case-insensitively and for look-alikes', async () => {
    const a = await client();
    await a.hello('Evan');
    for (const name of ['evan', 'EVAN', 'еvan']) {
      const c = await client();
      expect(await c.hello(name)).toMatchObject({ type: 'error', payload: { code: 'nick_taken' } });
    }
    const b = await client();
    await b.hello('someone');
    expect(await b.request('nick', { user_name: 'eVaN' })).toMatchObject({
      type: 'error',
      payload: { code: 'nick_taken' },
    });
  });

  it('leave and join are announced to the room', async () => {
    const a = await client();
    const b = await client();
    await a.hello('stayer');
    await b.hello('goer');
    await a.request('join', { room_id: 'door' });
    await b.request('join', { room_id: 'door' });
    await a.next((m) => m.type === 'user_joined' && m.payload.user_name === 'goer');
    await b.request('leave', { room_id: 'door' });
    await a.next((m) => m.type === 'user_left' && m.payload.user_name === 'goer');
    b.close();
    const c = await client();
    await c.hello('dropper');
    await c.request('join', { room_id: 'door' });
    c.close();
    const left = await a.next((m) => m.type === 'user_left' && m.payload.user_name === 'dropper');
    // Closed without a `quit`: a dropped link, told apart from a goodbye.
    expect(left.payload).toMatchObject({ reason: 'connection lost', quit: true });
  });

  it('dm reaches a present user and echoes to the sender; an absent user is an error', async () => {
    const a = await client();
    const b = await client();
    await a.hello('dmfrom');
    await b.hello('dmto');
    const echo = await a.request('dm', { to: 'DMTO', message: 'psst' });
    expect(echo).toMatchObject({ type: 'dm', payload: { from: 'dmfrom', to: 'dmto', message: 'psst' } });
    const got = await b.next(isType('dm'));
    expect(got.payload).toMatchObject({ from: 'dmfrom', message: 'psst' });
    expect(await a.request('dm', { to: 'nobody_here', message: 'hi' })).toMatchObject({
      type: 'error',
      payload: { code: 'no_such_user' },
    });
  });

  it('the sender receives its own message with its ref and the seq', async () => {
    const a = await client();
    await a.hello('echoer');
    await a.request('join', { room_id: 'echo' });
    const ack = await a.request('message', { room_id: 'echo', message: 'mine' });
    expect(ack).toMatchObject({
      type: 'message',
      payload: { room_id: 'echo', seq: 1, message: 'mine', user_name: 'echoer' },
    });
  });
});

describe('every invalid frame gets an error with a stable code and the ref; the connection stays open', () => {
  const cases: [string, string, unknown, string][] = [
    ['unknown type', 'fly', {}, 'unknown_type'],
    ['missing field', 'join', {}, 'invalid_payload'],
    ['wrong field type', 'message', { room_id: 'lobby', message: 42 }, 'invalid_payload'],
    ['message too long', 'message', { room_id: 'lobby', message: 'x'.repeat(4001) }, 'message_too_long'],
    ['empty message', 'message', { room_id: 'lobby', message: '   ' }, 'empty_message'],
    ['malformed room id', 'join', { room_id: 'bad room!' }, 'bad_room_id'],
    ['room id too long', 'join', { room_id: 'r'.repeat(65) }, 'bad_room_id'],
    ['nick with a space', 'nick', { user_name: 'a b' }, 'bad_nick'],
    ['nick with a control char', 'nick', { user_name: 'a\u0007' }, 'bad_nick'],
    ['nick too long', 'nick', { user_name: 'n'.repeat(33) }, 'bad_nick'],
    ['no such room', 'users', { room_id: 'nowhere' }, 'no_such_room'],
    ['not in room', 'message', { room_id: 'lobby', message: 'hi' }, 'not_in_room'],
    ['room exists', 'create_room', { room_id: 'lobby', room_name: 'x' }, 'room_exists'],
    ['leave a room you are not in', 'leave', { room_id: 'lobby' }, 'not_in_room'],
    ['dm to nobody', 'dm', { to: 'ghost', message: 'boo' }, 'no_such_user'],
    ['short password', 'register', { password: 'short' }, 'bad_password'],
  ];

  it.each(cases)('%s -> %s', async (_name, type, payload, code) => {
    const c = await client();
    await c.hello(`e${Math.random().toString(36).slice(2, 10)}`);
    const reply = await c.request(type, payload);
    expect(reply).toMatchObject({ type: 'error', payload: { code } });
    expect(typeof (reply.payload as { message: unknown }).message).toBe('string');
    expect(await c.request('ping', null)).toMatchObject({ type: 'pong' });
  });

  it('not identified -> not_identified', async () => {
    const c = await client();
    expect(await c.request('message', { room_id: 'lobby', message: 'hi' })).toMatchObject({
      payload: { code: 'not_identified' },
    });
    expect(await c.request('join', { room_id: 'lobby' })).toMatchObject({
      payload: { code: 'not_identified' },
    });
  });

  it('bad JSON, a non-object and a frame without type are answered', async () => {
    const c = await client();
    c.raw('{"type": "ping", ');
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ payload: { code: 'bad_json' } });
    c.raw('[1,2,3]');
    await c.waitCount((m) => m.type === 'error' && m.payload.code === 'bad_frame', 1);
    c.raw('{"payload":{},"ref":"x1"}');
    expect(await c.next((m) => m.ref === 'x1')).toMatchObject({ payload: { code: 'bad_frame' } });
    expect(await c.request('ping', null)).toMatchObject({ type: 'pong' });
  });

  it('a ref with terminal controls is refused (ref-less error) and never echoed', async () => {
    const c = await client();
    const raw: string[] = [];
    c.ws.on('message', (data) => raw.push(String(data)));
    for (const ref of ['\u001b]0;pwned\u0007', '\u001b[2J', 'a\nb', '\u009b31m', 'rtl\u202e']) {
      c.received.length = 0;
      c.raw(JSON.stringify({ type: 'ping', payload: null, ref }));
      const error = await c.next((m) => m.type === 'error');
      expect(error.ref).toBeUndefined();
      expect(error).toMatchObject({
        payload: { code: 'invalid_payload', message: expect.stringMatching(/ref must be/) },
      });
    }
    expect(await c.request('ping', null)).toMatchObject({ type: 'pong' });
    expect(raw.join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(raw.join('')).not.toMatch(/\\u001b|\\u0007|\\u009b/);
  });

  it('a binary frame is held to the text-frame rules: invalid UTF-8 closes with 1007, valid UTF-8 is read', async () => {
    const good = await client();
    good.ws.send(Buffer.from(JSON.stringify({ type: 'ping', payload: null, ref: 'bin' })), { binary: true });
    expect(await good.next((m) => m.ref === 'bin')).toMatchObject({ type: 'pong' });

    const bad = await client();
    // {"type":"ping","payload":null,"ref":"<0xff 0xfe>"}: once U+FFFD was put in their place.
    bad.ws.send(
      Buffer.concat([
        Buffer.from('{"type":"ping","payload":null,"ref":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
      { binary: true },
    );
    const closed = await bad.closedByServer();
    expect(closed.code).toBe(1007);
    expect(bad.received).toEqual([]);
  });

  it('a taken nick is refused for hello and for join', async () => {
    const a = await client();
    await a.hello('taken_one');
    const b = await client();
    expect(await b.request('join', { room_id: 'lobby', user_name: 'taken_one' })).toMatchObject({
      payload: { code: 'nick_taken' },
    });
  });
});

describe('fan-out under concurrency', () => {
  it('50 clients each sending 100 messages: everyone gets all 5,000 in one gap-free order', async () => {
    const N = 50;
    const M = 100;
    const room = 'busy';
    const members = await Promise.all(Array.from({ length: N }, () => TestClient.open(server.url)));
    clients.push(...members);
    await Promise.all(members.map((c, i) => c.hello(`busy${i}`)));
    await Promise.all(members.map((c) => c.request('join', { room_id: room })));
    for (let j = 0; j < M; j++) {
      members.forEach((c, i) => c.send('message', { room_id: room, message: `${i}:${j}` }));
    }
    const isMsg = (m: ServerMessage) => m.type === 'message' && m.payload.room_id === room;
    const streams = await Promise.all(members.map((c) => c.waitCount(isMsg, N * M, 60_000)));
    const reference = streams[0]!.map((m) => (m.payload as { id: string }).id);
    for (const stream of streams) {
      const payloads = stream.map((m) => m.payload as { seq: number; id: string; message: string });
      expect(payloads.length).toBe(N * M);
      expect(payloads.map((p) => p.seq)).toEqual(Array.from({ length: N * M }, (_, k) => k + 1));
      expect(payloads.map((p) => p.id)).toEqual(reference);
      // Each sender's messages arrive in the order it sent them.
      const next = new Array<number>(N).fill(0);
      for (const p of payloads) {
        const [sender, index] = p.message.split(':').map(Number) as [number, number];
        expect(index).toBe(next[sender]);
        next[sender] = index + 1;
      }
    }
  }, 90_000);
});

describe('reconnecting over a dead connection', () => {
  it('a hello with the resume token takes the nick over from the old connection', async () => {
    const old = await client();
    const welcome = await old.hello('ghosty');
    const token = (welcome.payload as { resume_token: string }).resume_token;
    expect(token.length).toBeGreaterThan(16);
    await old.request('join', { room_id: 'haunt' });
    const watcher = await client();
    await watcher.hello('ghostwatch');
    await watcher.request('join', { room_id: 'haunt' });

    const stranger = await client();
    expect(
      await stranger.request('hello', { user_name: 'ghosty', resume_token: 'x'.repeat(token.length) }),
    ).toMatchObject({
      payload: { code: 'nick_taken' },
    });
    const fresh = await client();
    expect(await fresh.request('hello', { user_name: 'ghosty', resume_token: token })).toMatchObject({
      type: 'welcome',
    });
    await old.closedByServer();
    const left = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === 'ghosty');
    expect(left.payload).toMatchObject({ reason: 'replaced' });
    // The token is single-use: the new session has its own.
    const third = await client();
    expect(await third.request('hello', { user_name: 'ghosty', resume_token: token })).toMatchObject({
      payload: { code: 'nick_taken' },
    });
  });

  it('a resume token of any characters is compared safely: nick_taken, never internal_error', async () => {
    const holder = await client();
    const welcome = await holder.hello('tokenholder');
    const token = (welcome.payload as { resume_token: string }).resume_token;
    const stranger = await client();
    // Same length in UTF-16 units, twice the bytes in UTF-8; then other lengths and a lone surrogate.
    for (const guess of [
      'é'.repeat(token.length),
      'ü',
      '\u{1F600}'.repeat(3),
      '\ud800'.repeat(token.length),
      '',
    ]) {
      expect(
        await stranger.request('hello', { user_name: 'tokenholder', resume_token: guess }),
      ).toMatchObject({ payload: { code: 'nick_taken' } });
    }
    expect(await stranger.request('ping', {})).toMatchObject({ type: 'pong' });
  });

  it('look-alikes of a registered nick are refused: blanks as bad_nick, small capitals as nick_registered', async () => {
    const owner = await client();
    await owner.hello('alicia');
    await owner.request('register', { password: 'alicia secret' });
    owner.close();
    await owner.closedByServer();
    const impostor = await client();
    for (const blank of ['\u3164', '\u115f', '\u2800']) {
      expect(await impostor.request('hello', { user_name: `alicia${blank}` })).toMatchObject({
        payload: { code: 'bad_nick' },
      });
    }
    for (const lookAlike of ['ᴀlicia', 'alicɪa', 'ALICIA', 'аlicia']) {
      expect(await impostor.request('hello', { user_name: lookAlike })).toMatchObject({
        payload: { code: 'nick_registered' },
      });
    }
  });

  it('three wrong passwords close the connection', async () => {
    const owner = await client();
    await owner.hello('locked');
    await owner.request('register', { password: 'correct horse' });
    owner.close();
    await owner.closedByServer();
    const guesser = await client();
    for (let i = 0; i < 3; i++) {
      expect(await guesser.request('hello', { user_name: 'locked', password: `guess${i}xyz` })).toMatchObject(
        { payload: { code: 'nick_registered' } },
      );
    }
    expect((await guesser.closedByServer()).reason).toMatch(/auth_failed/);
  });
});
