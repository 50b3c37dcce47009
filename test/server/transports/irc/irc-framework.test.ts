import { Client, type IrcEvent } from 'irc-framework';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server/server.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { TcpTestClient } from '../../../helpers/tcp-client.js';
import { TestClient } from '../../../helpers/ws-client.js';

/**
 * The IRC door driven by irc-framework, the library The Lounge is built on: what a real IRC
 * client negotiates, sends and expects, against a real server.
 */
let server: RunningServer;
const clients: { close(): void }[] = [];
const ircs: Client[] = [];
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer({ ircPort: 0, tcpPort: 0, serverName: 'irc.test', rateLimit: false });
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const c of ircs) c.quit();
  await server.close();
});

function until<T>(
  emitter: Client,
  event: string,
  pred: (e: T) => boolean = () => true,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} in ${ms} ms`)), ms);
    const listener = (e: T): void => {
      if (!pred(e)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(e);
    };
    emitter.on(event, listener);
  });
}

async function ircClient(
  name: string,
  extra: Record<string, unknown> = {},
  caps: string[] = [],
): Promise<Client> {
  const c = new Client();
  ircs.push(c);
  // Caps irc-framework does not ask for by itself are asked for with the rest at connect.
  if (caps.length > 0) c.requestCap(caps);
  const registered = until(c, 'registered');
  c.connect({
    host: '127.0.0.1',
    port: server.ircPort,
    nick: name,
    username: name,
    gecos: 'test',
    auto_reconnect: false,
    enable_echomessage: true,
    ...extra,
  });
  await registered;
  return c;
}

async function wsUser(name: string, room: string): Promise<TestClient> {
  const ws = await TestClient.open(server.url);
  clients.push(ws);
  await ws.request('join', { room_id: room, user_name: name });
  return ws;
}

describe('IRC door with irc-framework', () => {
  it('registers, joins, and talks with a WebSocket user and a TCP-line user both ways', async () => {
    const room = `fw${++n}`;
    const me = nick('fw');
    const irc = await ircClient(me);
    expect(irc.network.cap.enabled).toEqual(expect.arrayContaining(['server-time', 'message-tags']));
    const joined = until<{ channel: string; nick: string }>(irc, 'join', (e) => e.nick === me);
    irc.join(`#${room}`);
    expect((await joined).channel).toBe(`#${room}`);
    const wsName = nick('fwws');
    const ws = await wsUser(wsName, room);
    const tcpName = nick('fwtcp');
    const tcp = await TcpTestClient.login(server.tcpPort!, tcpName);
    clients.push(tcp);
    tcp.write(`/join ${room}\n`);
    await tcp.waitLine(`*** you joined #${room}`);

    irc.say(`#${room}`, 'from irc');
    await ws.next(
      (m) => m.type === 'message' && m.payload.message === 'from irc' && m.payload.user_name === me,
    );
    await tcp.waitLine((l) => l.includes(me) && l.includes('from irc'));

    const fromWs = until<IrcEvent>(irc, 'privmsg', (e) => e.message === 'from ws');
    ws.send('message', { room_id: room, message: 'from ws' });
    expect((await fromWs).nick).toBe(wsName);
    const fromTcp = until<IrcEvent>(irc, 'privmsg', (e) => e.message === 'from tcp');
    tcp.write('from tcp\n');
    const event = await fromTcp;
    expect(event.nick).toBe(tcpName);
    expect(event.target).toBe(`#${room}`);
    // server-time: the message's own time, as the WebSocket user was told.
    expect(event.tags.time).toMatch(/^\d{4}-\d\d-\d\dT/);

    irc.action(`#${room}`, 'waves');
    await ws.next((m) => m.type === 'message' && m.payload.message === 'waves' && m.payload.user_name === me);
  });

  it('433 for a nick in use; a reconnect after quitting gets the nick back', async () => {
    const name = nick('dup');
    const first = await ircClient(name);
    const second = new Client();
    ircs.push(second);
    const inUse = until<{ nick: string }>(second, 'nick in use');
    second.connect({
      host: '127.0.0.1',
      port: server.ircPort,
      nick: name,
      username: 'x',
      gecos: 'x',
      auto_reconnect: false,
    });
    expect((await inUse).nick).toBe(name);
    second.quit();
    const closed = until(first, 'close');
    first.quit('bye');
    await closed;
    while (server.hub.onlineNick(name) !== undefined) await new Promise((r) => setImmediate(r));
    const again = await ircClient(name);
    expect(again.user.nick).toBe(name);
  });

  it('a registered nick needs its password: SASL PLAIN logs in with it', async () => {
    const name = nick('acct');
    const ws = await TestClient.open(server.url);
    await ws.hello(name);
    expect((await ws.request('register', { password: 'framework-pw' })).type).toBe('registered');
    ws.close();
    while (server.hub.onlineNick(name) !== undefined) await new Promise((r) => setImmediate(r));
    const irc = await ircClient(name, { account: { account: name, password: 'framework-pw' } });
    expect(irc.user.nick).toBe(name);
    expect(irc.network.cap.enabled).toContain('sasl');
  });

  it('fetches backlog with CHATHISTORY in a chathistory batch', async () => {
    const room = `fwh${++n}`;
    const ws = await wsUser(nick('fwhw'), room);
    for (let i = 1; i <= 12; i++) await ws.request('message', { room_id: room, message: `old ${i}` });
    const irc = await ircClient(nick('fwhr'), {}, ['batch', 'draft/chathistory']);
    expect(irc.network.cap.enabled).toContain('draft/chathistory');
    const batch = until<{ type: string; commands: { params: string[] }[] }>(irc, 'batch end chathistory');
    irc.raw(`CHATHISTORY LATEST #${room} * 5`);
    const got = await batch;
    expect(got.commands.map((c) => c.params[1])).toEqual(['old 8', 'old 9', 'old 10', 'old 11', 'old 12']);
  });
});

describe('IRC over TLS (--irc-tls-port)', () => {
  it('speaks TLS with the certificate of --tls-cert and --tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-irc-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const secure = await startTestServer({
      ircPort: 0,
      ircTlsPort: 0,
      tlsCert: cert,
      tlsKey: key,
      serverName: 'tls.test',
    });
    try {
      const c = new Client();
      ircs.push(c);
      const registered = until(c, 'registered');
      c.connect({
        host: '127.0.0.1',
        port: secure.ircTlsPort,
        tls: true,
        rejectUnauthorized: false,
        nick: 'secure',
        username: 'secure',
        gecos: 'x',
        auto_reconnect: false,
      });
      await registered;
      expect(c.user.nick).toBe('secure');
      c.quit();
    } finally {
      await secure.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('IRC door with irc-framework: room life', () => {
  it('topic, prefixes in NAMES, voice, away-notify, part reason and kick, as irc-framework reads them', async () => {
    const op = nick('fwop');
    const ws = await TestClient.open(server.url);
    await ws.hello(op);
    expect((await ws.request('register', { password: 'framework-pw' })).type).toBe('registered');
    ws.close();
    while (server.hub.onlineNick(op) !== undefined) await new Promise((r) => setImmediate(r));
    const owner = await ircClient(op, { account: { account: op, password: 'framework-pw' } });
    const chan = `#fwlife${++n}`;
    const ownerIn = until<{ nick: string }>(owner, 'join', (e) => e.nick === op);
    owner.join(chan);
    await ownerIn;
    const topicSet = until<{ topic: string }>(owner, 'topic', (e) => e.topic === 'plans for friday');
    owner.raw(`TOPIC ${chan} :plans for friday`);
    await topicSet;

    const bobName = nick('fwbob');
    const bob = await ircClient(bobName, {}, ['away-notify']);
    const topic = until<{ channel: string; topic: string }>(bob, 'topic');
    const userlist = until<{ users: { nick: string; modes: string[] }[] }>(bob, 'userlist');
    bob.join(chan);
    expect((await topic).topic).toBe('plans for friday');
    const ownerRow = (await userlist).users.find((u) => u.nick === op);
    expect(ownerRow?.modes).toEqual(['o']);

    const voiced = until<{ modes: { mode: string; param: string }[] }>(bob, 'mode', (e) =>
      e.modes.some((m) => m.mode === '+v' && m.param === bobName),
    );
    owner.raw(`MODE ${chan} +v ${bobName}`);
    await voiced;

    const away = until<{ nick: string; message: string }>(bob, 'away', (e) => e.nick === op);
    owner.raw('AWAY :at lunch');
    expect((await away).message).toBe('at lunch');

    const parted = until<{ nick: string; message: string }>(owner, 'part', (e) => e.nick === bobName);
    bob.part(chan, 'see you later');
    expect((await parted).message).toBe('see you later');

    const back = until<{ nick: string }>(bob, 'join', (e) => e.nick === bobName);
    bob.join(chan);
    await back;
    const kicked = until<{ kicked: string; nick: string; message: string }>(bob, 'kick');
    owner.raw(`KICK ${chan} ${bobName} :enough for today`);
    const k = await kicked;
    expect(k).toMatchObject({ kicked: bobName, nick: op, message: 'enough for today' });
  });
});

describe('IRC door with irc-framework: accounts and invitations', () => {
  it('account-notify and extended-join: a WebSocket user who registers is ACCOUNT name, a rename is ACCOUNT *, a logged-in joiner carries its account', async () => {
    const chan = `#fwacct${++n}`;
    const watcherName = nick('fwwatch');
    const watcher = await ircClient(watcherName);
    expect(watcher.network.cap.enabled).toEqual(expect.arrayContaining(['account-notify', 'extended-join']));
    const inWatch = until<{ nick: string }>(watcher, 'join', (e) => e.nick === watcherName);
    watcher.join(chan);
    await inWatch;

    const wsName = nick('fwacctws');
    const plainJoin = until<{ nick: string; account: string | false }>(
      watcher,
      'join',
      (e) => e.nick === wsName,
    );
    const ws = await wsUser(wsName, chan.slice(1));
    expect((await plainJoin).account).toBe(false);
    const login = until<{ nick: string; account: string | false }>(
      watcher,
      'account',
      (e) => e.nick === wsName,
    );
    expect((await ws.request('register', { password: 'framework-pw' })).type).toBe('registered');
    expect((await login).account).toBe(wsName);
    const renamed = `${wsName}x`;
    const logout = until<{ nick: string; account: string | false }>(
      watcher,
      'account',
      (e) => e.nick === renamed,
    );
    expect((await ws.request('nick', { user_name: renamed })).type).toBe('nick_changed');
    expect((await logout).account).toBe(false);

    // A registered nick joining (logged in with its password) carries its account in the JOIN.
    const acct = nick('fwacct');
    const reg = await TestClient.open(server.url);
    clients.push(reg);
    await reg.hello(acct);
    expect((await reg.request('register', { password: 'framework-pw' })).type).toBe('registered');
    const accountJoin = until<{ nick: string; account: string | false }>(
      watcher,
      'join',
      (e) => e.nick === acct,
    );
    await reg.request('join', { room_id: chan.slice(1) });
    expect((await accountJoin).account).toBe(acct);
  });

  it('invite-notify: the room operators see INVITE for an invitation another operator made; the invitee gets it too', async () => {
    const op = nick('fwinv');
    const ws = await TestClient.open(server.url);
    clients.push(ws);
    await ws.hello(op);
    expect((await ws.request('register', { password: 'framework-pw' })).type).toBe('registered');
    const chan = `#fwinv${++n}`;
    expect((await ws.request('create_room', { room_id: chan.slice(1) })).type).toBe('room_created');
    await ws.request('join', { room_id: chan.slice(1) });
    // A second operator, on IRC: an operator's standing needs a registered nick.
    const op2 = nick('fwinvop');
    const reg = await TestClient.open(server.url);
    await reg.hello(op2);
    expect((await reg.request('register', { password: 'framework-pw' })).type).toBe('registered');
    reg.close();
    while (server.hub.onlineNick(op2) !== undefined) await new Promise((r) => setImmediate(r));
    const second = await ircClient(op2, { account: { account: op2, password: 'framework-pw' } });
    expect(second.network.cap.enabled).toContain('invite-notify');
    const in2 = until<{ nick: string }>(second, 'join', (e) => e.nick === op2);
    second.join(chan);
    await in2;
    expect(
      (await ws.request('role', { room_id: chan.slice(1), user_name: op2, role: 'operator' })).type,
    ).toBe('role_changed');
    const plainName = nick('fwinvplain');
    const plain = await ircClient(plainName);
    const inPlain = until<{ nick: string }>(plain, 'join', (e) => e.nick === plainName);
    plain.join(chan);
    await inPlain;
    const guestName = nick('fwguest');
    const guest = await ircClient(guestName);
    const seenByOp = until<{ nick: string; invited: string; channel: string }>(second, 'invite');
    const seenByGuest = until<{ nick: string; invited: string; channel: string }>(guest, 'invite');
    let plainSaw = false;
    plain.on('invite', () => (plainSaw = true));
    expect((await ws.request('invite', { room_id: chan.slice(1), user_name: guestName })).type).toBe(
      'invited',
    );
    expect(await seenByOp).toMatchObject({ nick: op, invited: guestName, channel: chan });
    expect(await seenByGuest).toMatchObject({ nick: op, invited: guestName, channel: chan });
    // A member who is no operator is not told (a PING answered after it proves nothing came).
    const pong = until(plain, 'pong');
    plain.raw('PING after-invite');
    await pong;
    expect(plainSaw).toBe(false);
  });
});
