import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/server.js';
import { startTestServer } from '../helpers/test-server.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Issue 14, the room-life half: actions (/me), away, quit reasons, whois and case-insensitive
 * room names, over WebSocket, TCP, SSE and POST against one real server.
 */

let server: RunningServer;
const open: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (open.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;
const room = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer({ tcpPort: 0, rateLimit: false });
});
afterAll(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function ws(name: string, ...rooms: string[]): Promise<TestClient> {
  const c = track(await TestClient.open(server.url));
  await c.hello(name);
  for (const r of rooms) await c.request('join', { room_id: r });
  return c;
}

describe('actions', () => {
  it('a message with kind action reaches every member as one, and history keeps the kind', async () => {
    const r = room('act');
    const alice = await ws(nick('alice'), r);
    const bob = await ws(nick('bob'), r);
    const ack = await alice.request('message', { room_id: r, message: 'waves', kind: 'action' });
    expect(ack).toMatchObject({ type: 'message', payload: { message: 'waves', kind: 'action' } });
    const seen = await bob.next((m) => m.type === 'message' && m.payload.room_id === r);
    expect(seen.payload).toMatchObject({ kind: 'action', message: 'waves' });
    const plain = await alice.request('message', { room_id: r, message: 'hello' });
    expect(plain.payload).not.toHaveProperty('kind');
    const page = await bob.request('history', { room_id: r });
    expect(page.type === 'history' && page.payload.messages.map((m) => m.kind ?? 'plain')).toEqual([
      'action',
      'plain',
    ]);
  });

  it('refuses any other kind, and a topic kind from a client', async () => {
    const r = room('kinds');
    const alice = await ws(nick('alice'), r);
    for (const kind of ['topic', 'shout', 1, null]) {
      const reply = await alice.request('message', { room_id: r, message: 'x', kind });
      expect(reply).toMatchObject({ type: 'error', payload: { code: 'invalid_payload' } });
    }
    const dm = await alice.request('dm', { to: 'whoever', message: 'x', kind: 'topic' });
    expect(dm).toMatchObject({ type: 'error', payload: { code: 'invalid_payload' } });
  });

  it('a retried action with the same client_msg_id is stored once', async () => {
    const r = room('idem');
    const alice = await ws(nick('alice'), r);
    const payload = { room_id: r, message: 'nods', kind: 'action', client_msg_id: 'k1' };
    const first = await alice.request('message', payload);
    const again = await alice.request('message', payload);
    expect(first.payload).toMatchObject({ kind: 'action' });
    expect(again.payload).toEqual(first.payload);
    const page = await alice.request('history', { room_id: r });
    expect(page.type === 'history' && page.payload.messages).toHaveLength(1);
  });

  it('a DM may be an action', async () => {
    const a = nick('alice');
    const b = nick('bob');
    const alice = await ws(a);
    const bob = await ws(b);
    const echo = await alice.request('dm', { to: b, message: 'pokes you', kind: 'action' });
    expect(echo).toMatchObject({ type: 'dm', payload: { from: a, kind: 'action' } });
    const got = await bob.next((m) => m.type === 'dm');
    expect(got.payload).toMatchObject({ kind: 'action', message: 'pokes you' });
  });

  it('a TCP member sees `* alice waves`, and /me from TCP is an action', async () => {
    const r = room('tcpact');
    const a = nick('alice');
    const alice = await ws(a, r);
    const t = nick('tom');
    const tom = track(await TcpTestClient.login(server.tcpPort!, t));
    tom.write(`/join ${r}\n`);
    await tom.waitLine(`*** you joined #${r}`);
    await alice.request('message', { room_id: r, message: 'waves', kind: 'action' });
    const line = await tom.waitLine((l) => l.includes(`* ${a} waves`));
    expect(line).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d\\] #${r} \\* ${a} waves$`));
    tom.write('/me shrugs\n');
    const heard = await alice.next((m) => m.type === 'message' && m.payload.user_name === t);
    expect(heard.payload).toMatchObject({ kind: 'action', message: 'shrugs' });
  });

  it('an SSE stream carries an action, and POST may send one', async () => {
    const r = room('sseact');
    const alice = await ws(nick('alice'), r);
    const stream = track(await SseTestClient.open(`${server.httpUrl}/stream?room=${r}`));
    await stream.waitEvent('joined');
    const res = await fetch(`${server.httpUrl}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: nick('curl'), content: 'dances', room: r, kind: 'action' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: 'action', message: 'dances' });
    const event = await stream.waitEvent('message');
    expect(JSON.parse(event.data)).toMatchObject({ payload: { kind: 'action', message: 'dances' } });
    await alice.next((m) => m.type === 'message' && m.payload.kind === 'action');
    const bad = await fetch(`${server.httpUrl}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: nick('curl'), content: 'x', room: r, kind: 'topic' }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('away', () => {
  it('rooms hear it, users shows it, a DM is answered with it, and /away alone comes back', async () => {
    const r = room('away');
    const a = nick('alice');
    const b = nick('bob');
    const alice = await ws(a, r);
    const bob = await ws(b, r);
    const set = await alice.request('away', { message: 'gone fishing' });
    expect(set).toMatchObject({ type: 'user_away', payload: { user_name: a, message: 'gone fishing' } });
    expect(set.payload).not.toHaveProperty('room_id');
    const notice = await bob.next((m) => m.type === 'user_away' && m.payload.user_name === a);
    expect(notice.payload).toEqual({ room_id: r, user_name: a, message: 'gone fishing' });

    const users = await bob.request('users', { room_id: r });
    expect(users.payload).toMatchObject({
      users: [a, b],
      members: [{ user_name: a, away: 'gone fishing' }, { user_name: b }],
    });

    const echo = await bob.request('dm', { to: a, message: 'you there?' });
    expect(echo.type).toBe('dm');
    const auto = await bob.next((m) => m.type === 'user_away' && !('room_id' in m.payload));
    expect(auto.payload).toEqual({ user_name: a, message: 'gone fishing' });

    const back = await alice.request('away', {});
    expect(back.payload).toEqual({ user_name: a });
    await bob.next(
      (m) => m.type === 'user_away' && m.payload.room_id === r && m.payload.message === undefined,
    );
    const after = await bob.request('users', { room_id: r });
    expect(after.payload).toMatchObject({ members: [{ user_name: a }, { user_name: b }] });
    expect((after.payload as { members: object[] }).members[0]).not.toHaveProperty('away');
  });

  it('refuses an away message that is too long, and needs a nick', async () => {
    const alice = await ws(nick('alice'));
    expect(await alice.request('away', { message: 'x'.repeat(301) })).toMatchObject({
      payload: { code: 'bad_status' },
    });
    expect(await alice.request('away', { message: 7 })).toMatchObject({
      payload: { code: 'invalid_payload' },
    });
    const anon = track(await TestClient.open(server.url));
    expect(await anon.request('away', { message: 'hi' })).toMatchObject({
      payload: { code: 'not_identified' },
    });
  });

  it('ends with the connection', async () => {
    const a = nick('alice');
    const alice = await ws(a);
    await alice.request('away', { message: 'brb' });
    alice.close();
    const bob = await ws(nick('bob'));
    await expect
      .poll(async () => (await bob.request('whois', { user_name: a })).payload)
      .toMatchObject({ code: 'no_such_user' });
    const again = await ws(a);
    const who = await again.request('whois', { user_name: a });
    expect(who.payload).not.toHaveProperty('away');
  });

  it('a TCP user reads away notices once, however many rooms it shares', async () => {
    const r1 = room('aw');
    const r2 = room('aw');
    const a = nick('alice');
    const alice = await ws(a, r1, r2);
    const tom = track(await TcpTestClient.login(server.tcpPort!, nick('tom')));
    for (const r of [r1, r2]) {
      tom.write(`/join ${r}\n`);
      await tom.waitLine(`*** you joined #${r}`);
    }
    await alice.request('away', { message: 'lunch' });
    await alice.request('message', { room_id: r2, message: 'marker' });
    await tom.waitLine((l) => l.endsWith('<' + a + '> marker'));
    expect(tom.lines.filter((l) => l === `*** ${a} is away: lunch`)).toHaveLength(1);
    tom.write('/away on the phone\n');
    await tom.waitLine('*** you are away: on the phone');
    tom.write('/away\n');
    await tom.waitLine('*** you are back');
  });
});

describe('quit', () => {
  it('others see a quit with its reason over WebSocket and TCP, distinct from a leave', async () => {
    const r = room('quit');
    const q = nick('quitter');
    const watcher = await ws(nick('w'), r);
    const tom = track(await TcpTestClient.login(server.tcpPort!, nick('tom')));
    tom.write(`/join ${r}\n`);
    await tom.waitLine(`*** you joined #${r}`);
    const quitter = await ws(q, r);
    quitter.send('quit', { reason: 'see you tomorrow' });
    const closed = await quitter.closedByServer();
    expect(closed.code).toBe(1000);
    const left = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === q);
    expect(left.payload).toEqual({ room_id: r, user_name: q, reason: 'see you tomorrow', quit: true });
    await tom.waitLine(`*** ${q} quit (see you tomorrow)`);
  });

  it('a TCP /quit reason is seen by a WebSocket member; a leave has no quit flag', async () => {
    const r = room('tq');
    const t = nick('tom');
    const watcher = await ws(nick('w'), r);
    const tom = track(await TcpTestClient.login(server.tcpPort!, t));
    tom.write(`/join ${r}\n`);
    await tom.waitLine(`*** you joined #${r}`);
    tom.write(`/leave ${r}\n`);
    const leave = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === t);
    expect(leave.payload).toEqual({ room_id: r, user_name: t });
    tom.write(`/join ${r}\n`);
    await watcher.next((m) => m.type === 'user_joined' && m.payload.user_name === t);
    tom.write('/quit gone for the day\n');
    await tom.waitClosed();
    const left = await watcher.next(
      (m) => m.type === 'user_left' && m.payload.user_name === t && m.payload.quit === true,
    );
    expect(left.payload).toMatchObject({ reason: 'gone for the day' });
  });

  it('a dropped link is a quit with reason `connection lost`, over TCP too', async () => {
    const r = room('drop');
    const t = nick('tom');
    const watcher = await ws(nick('w'), r);
    const tom = track(await TcpTestClient.login(server.tcpPort!, t));
    tom.write(`/join ${r}\n`);
    await tom.waitLine(`*** you joined #${r}`);
    tom.socket.destroy();
    const left = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === t);
    expect(left.payload).toMatchObject({ reason: 'connection lost', quit: true });
  });

  it('a quit without a reason reads `quit`; a reason too long is refused and the connection stays', async () => {
    const r = room('q2');
    const q = nick('q');
    const watcher = await ws(nick('w'), r);
    const quitter = await ws(q, r);
    expect(await quitter.request('quit', { reason: 'y'.repeat(400) })).toMatchObject({
      payload: { code: 'bad_status' },
    });
    expect((await quitter.request('ping', {})).type).toBe('pong');
    quitter.send('quit', null);
    const left = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === q);
    expect(left.payload).toMatchObject({ reason: 'quit', quit: true });
  });
});

describe('whois', () => {
  it('tells who a nick is and only the rooms the asker shares', async () => {
    const shared = room('shared');
    const secret = room('secret');
    const mine = room('mine');
    const a = nick('alice');
    const alice = await ws(a, shared, secret);
    await alice.request('away', { message: 'busy' });
    const bob = await ws(nick('bob'), shared, mine);
    const before = Date.now();
    const who = await bob.request('whois', { user_name: a.toUpperCase() });
    expect(who.type).toBe('whois');
    const p = who.payload as Extract<ServerMessage, { type: 'whois' }>['payload'];
    expect(p).toMatchObject({ user_name: a, registered: false, away: 'busy', rooms: [shared] });
    expect(JSON.stringify(p)).not.toContain(secret);
    expect(p.idle_ms).toBeGreaterThanOrEqual(0);
    expect(p.connected_ts).toBeLessThanOrEqual(before);
    await alice.request('message', { room_id: shared, message: 'now' });
    const fresh = await bob.request('whois', { user_name: a });
    expect((fresh.payload as typeof p).idle_ms).toBeLessThan(p.idle_ms + 1000);
    const stranger = await ws(nick('carol'));
    const none = await stranger.request('whois', { user_name: a });
    expect(none.payload).toMatchObject({ rooms: [] });
  });

  it('refuses an unknown nick, a bad nick and an anonymous asker', async () => {
    const bob = await ws(nick('bob'));
    expect(await bob.request('whois', { user_name: 'nobody-here' })).toMatchObject({
      type: 'error',
      payload: { code: 'no_such_user' },
    });
    expect(await bob.request('whois', { user_name: 'a b' })).toMatchObject({ payload: { code: 'bad_nick' } });
    expect(await bob.request('whois', {})).toMatchObject({ payload: { code: 'invalid_payload' } });
    const anon = track(await TestClient.open(server.url));
    expect(await anon.request('whois', { user_name: 'bob' })).toMatchObject({
      payload: { code: 'not_identified' },
    });
  });

  it('a TCP user reads whois as lines', async () => {
    const r = room('tw');
    const a = nick('alice');
    await ws(a, r);
    const tom = track(await TcpTestClient.login(server.tcpPort!, nick('tom')));
    tom.write(`/join ${r}\n`);
    await tom.waitLine(`*** you joined #${r}`);
    tom.write(`/whois ${a}\n`);
    await tom.waitLine(`*** ${a}: not registered`);
    await tom.waitLine(`*** ${a}: in #${r} (rooms you share)`);
  });
});

describe('room names without case', () => {
  it('dev and DEV are one room over WebSocket; the first spelling is kept', async () => {
    const base = room('Dev');
    const alice = await ws(nick('alice'));
    const joined = await alice.request('join', { room_id: base });
    expect(joined.payload).toMatchObject({ room_id: base });
    const bob = await ws(nick('bob'));
    const other = await bob.request('join', { room_id: base.toUpperCase() });
    expect(other.payload).toMatchObject({ room_id: base, members: [expect.any(String), expect.any(String)] });
    const sent = await bob.request('message', { room_id: base.toLowerCase(), message: 'one room' });
    expect(sent.payload).toMatchObject({ room_id: base });
    await alice.next((m) => m.type === 'message' && m.payload.message === 'one room');
    expect(await bob.request('create_room', { room_id: base.toLowerCase() })).toMatchObject({
      payload: { code: 'room_exists' },
    });
    const listed = await bob.request('rooms', { filter: base });
    expect(listed.type === 'rooms' && listed.payload.rooms.map((x) => x.room_id)).toEqual([base]);
    const left = await bob.request('leave', { room_id: base.toUpperCase() });
    expect(left).toMatchObject({ type: 'user_left', payload: { room_id: base } });
  });

  it('a TCP /join DEV joins #dev, and SSE ?room=DEV streams it', async () => {
    const base = room('dev');
    const alice = await ws(nick('alice'), base);
    const t = nick('tom');
    const tom = track(await TcpTestClient.login(server.tcpPort!, t));
    tom.write(`/join ${base.toUpperCase()}\n`);
    await tom.waitLine(`*** you joined #${base}`);
    await alice.next((m) => m.type === 'user_joined' && m.payload.user_name === t);
    tom.write(`/join ${base.toUpperCase()}\n`);
    await tom.waitLine(`*** now talking in #${base}`);
    const stream = track(await SseTestClient.open(`${server.httpUrl}/stream?room=${base.toUpperCase()}`));
    const joined = await stream.waitEvent('joined');
    expect(JSON.parse(joined.data)).toMatchObject({ payload: { room_id: base } });
    tom.write('said in any case\n');
    const m = await stream.waitEvent('message');
    expect(JSON.parse(m.data)).toMatchObject({ payload: { room_id: base, message: 'said in any case' } });
  });
});

describe('quit reasons in a WebSocket close frame', () => {
  it('a long reason of multi-byte characters still closes cleanly with 1000', async () => {
    const r = room('wide');
    const q = nick('q');
    const watcher = await ws(nick('w'), r);
    const quitter = await ws(q, r);
    const reason = '😀'.repeat(300);
    quitter.send('quit', { reason });
    expect((await quitter.closedByServer()).code).toBe(1000);
    const left = await watcher.next((m) => m.type === 'user_left' && m.payload.user_name === q);
    expect(left.payload).toMatchObject({ reason, quit: true });
  });
});
