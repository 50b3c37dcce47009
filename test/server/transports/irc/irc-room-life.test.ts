import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server/server.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';
import { TcpTestClient } from '../../../helpers/tcp-client.js';
import { TestClient } from '../../../helpers/ws-client.js';

/**
 * Room life through the IRC door (issue 17 with issue 14): topics, away, kicks, invitations,
 * bans, roles and modes, part and quit reasons, /kill. Raw IRC lines against a real server, with
 * WebSocket and TCP-line users in the same rooms.
 */
let server: RunningServer;
let port: number;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;
const room = (): string => `life${++n}`;
const PW = 'room-life-pw';

beforeAll(async () => {
  server = await startTestServer({
    ircPort: 0,
    tcpPort: 0,
    serverName: 'irc.test',
    rateLimit: false,
    passwordLimit: false,
    operators: ['boss', 'root'],
  });
  port = server.ircPort!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

/** Registers `name` (a WebSocket `register`), so it can own rooms and be an operator. */
async function account(name: string): Promise<void> {
  const ws = await TestClient.open(server.url);
  await ws.request('hello', { user_name: name });
  expect((await ws.request('register', { password: PW })).type).toBe('registered');
  ws.close();
  // The nick is free again once the hub saw the socket close.
  for (let i = 0; i < 100 && server.hub.onlineNick(name) !== undefined; i++)
    await new Promise((r) => setImmediate(r));
}

/** An IRC client logged in as a registered nick that owns a fresh room it joined. */
async function owner(
  base = 'own',
  caps: string[] = [],
): Promise<{ c: IrcTestClient; me: string; chan: string }> {
  const me = nick(base);
  await account(me);
  const c = track(await IrcTestClient.register(port, me, { pass: PW, caps }));
  const chan = `#${room()}`;
  c.send(`JOIN ${chan}`);
  await c.wait(new RegExp(` 366 ${me} ${chan} `));
  return { c, me, chan };
}

async function ircUser(
  base: string,
  chan?: string,
  caps: string[] = [],
): Promise<{ c: IrcTestClient; me: string }> {
  const me = nick(base);
  const c = track(await IrcTestClient.register(port, me, { caps }));
  if (chan !== undefined) {
    c.send(`JOIN ${chan}`);
    await c.wait(new RegExp(` 366 ${me} ${chan} `));
  }
  return { c, me };
}

async function wsUser(name: string, roomId: string): Promise<TestClient> {
  const ws = track(await TestClient.open(server.url));
  await ws.request('join', { room_id: roomId, user_name: name });
  return ws;
}

describe('IRC door: ISUPPORT and MYINFO', () => {
  it('advertises the prefixes, channel modes and lengths the server enforces', async () => {
    const { c, me } = await ircUser('isup');
    await c.wait(/ 422 /);
    const tokens = c.lines.filter((l) => / 005 /.test(l)).join(' ');
    for (const token of [
      'PREFIX=(ov)@+',
      'CHANMODES=b,,,imt',
      'TOPICLEN=390',
      'KICKLEN=200',
      'AWAYLEN=300',
      'MODES=6',
      'MAXLIST=b:200',
    ])
      expect(tokens).toContain(token);
    expect(tokens).not.toMatch(/PREFIX= /);
    expect(c.lines.find((l) => / 004 /.test(l))).toMatch(
      new RegExp(` 004 ${me} irc\\.test \\S+ i bimotv :bov$`),
    );
  });
});

describe('IRC door: topics', () => {
  it('TOPIC sets the topic: the channel sees TOPIC, a query answers 332/333, a joiner gets them in the burst', async () => {
    const { c: alice, me: a, chan } = await owner();
    const { c: bob } = await ircUser('tbob', chan);
    const ws = await wsUser(nick('tws'), chan.slice(1));
    alice.send(`TOPIC ${chan} :release on friday`);
    await alice.wait(new RegExp(`^:${a}!~u@chat TOPIC ${chan} :release on friday$`));
    await bob.wait(new RegExp(`^:${a}!~u@chat TOPIC ${chan} :release on friday$`));
    await ws.next(
      (m) => m.type === 'message' && m.payload.kind === 'topic' && m.payload.message === 'release on friday',
    );
    bob.send(`TOPIC ${chan}`);
    await bob.wait(new RegExp(` 332 \\S+ ${chan} :release on friday$`));
    await bob.wait(new RegExp(` 333 \\S+ ${chan} ${a} :\\d+$`));
    const { c: carol, me: cname } = await ircUser('tcarol');
    carol.send(`JOIN ${chan}`);
    const burst = await carol.waitCount(new RegExp(` (332|333|353|366) ${cname} `), 4);
    expect(burst[0]).toMatch(new RegExp(` 332 ${cname} ${chan} :release on friday$`));
    expect(burst[1]).toMatch(new RegExp(` 333 ${cname} ${chan} ${a} :\\d+$`));
    expect(burst[2]).toMatch(new RegExp(` 353 ${cname} = ${chan} :.*@${a}`));
  });

  it('a topic set from WebSocket reaches IRC as TOPIC; TOPIC on a channel without one is 331', async () => {
    const { c, me } = await ircUser('tq');
    const r = room();
    const ws = await wsUser(nick('tw'), r);
    c.send(`JOIN #${r}`);
    await c.wait(new RegExp(` 366 ${me} #${r} `));
    c.send(`TOPIC #${r}`);
    await c.wait(new RegExp(` 331 ${me} #${r} :No topic is set`));
    ws.send('topic', { room_id: r, topic: 'set from the web' });
    await c.wait(new RegExp(` TOPIC #${r} :set from the web$`));
  });

  it('+t: a member who is no operator gets 482 for TOPIC; the owner still sets it', async () => {
    const { c: alice, chan } = await owner();
    const { c: bob, me: b } = await ircUser('tlock', chan);
    alice.send(`MODE ${chan} +t`);
    await bob.wait(new RegExp(` MODE ${chan} \\+t$`));
    bob.send(`TOPIC ${chan} :mine now`);
    await bob.wait(new RegExp(` 482 ${b} ${chan} :`));
  });
});

describe('IRC door: away', () => {
  it('AWAY answers 306 and 305; PRIVMSG to an away nick gets 301; WHOIS shows it; away-notify sends AWAY; WHO says G', async () => {
    const { c: alice, me: a, chan } = await owner('aw');
    const { c: bob, me: b } = await ircUser('awbob', chan, ['away-notify']);
    const { c: carol, me: cn } = await ircUser('awcarol', chan);
    alice.send('AWAY :gone fishing');
    await alice.wait(new RegExp(` 306 ${a} :You have been marked as being away`));
    await bob.wait(new RegExp(`^:${a}!~u@chat AWAY :gone fishing$`));
    carol.send(`PRIVMSG ${a} :are you there?`);
    await carol.wait(new RegExp(` 301 ${cn} ${a} :gone fishing$`));
    carol.send(`WHOIS ${a}`);
    await carol.wait(new RegExp(` 301 ${cn} ${a} :gone fishing$`));
    carol.send(`WHO ${chan}`);
    await carol.wait(
      new RegExp(` 352 ${cn} ${chan} ~${a.slice(0, 9)} chat irc\\.test ${a} G@ :0 ${a} real$`),
    );
    await carol.wait(new RegExp(` 352 ${cn} ${chan} ~${b.slice(0, 9)} chat irc\\.test ${b} H :0 ${b} real$`));
    alice.send('AWAY');
    await alice.wait(new RegExp(` 305 ${a} :You are no longer marked as being away`));
    await bob.wait(new RegExp(`^:${a}!~u@chat AWAY$`));
    // Without away-notify, no AWAY lines.
    expect(carol.lines.some((l) => l.includes('!~u@chat AWAY'))).toBe(false);
  });

  it('an away change is told once, however many channels are shared, and never to the one away', async () => {
    const { c: alice, me: a, chan } = await owner('aw1', ['away-notify']);
    const second = `#${room()}`;
    alice.send(`JOIN ${second}`);
    await alice.wait(new RegExp(` 366 ${a} ${second} `));
    const { c: bob, me: b } = await ircUser('aw1bob', chan, ['away-notify']);
    bob.send(`JOIN ${second}`);
    await bob.wait(new RegExp(` 366 ${b} ${second} `));
    alice.send('AWAY :brb');
    await bob.wait(new RegExp(`^:${a}!~u@chat AWAY :brb$`));
    alice.send('AWAY');
    await bob.wait(new RegExp(`^:${a}!~u@chat AWAY$`));
    expect(bob.lines.filter((l) => l.includes(`${a}!~u@chat AWAY`))).toHaveLength(2);
    await alice.wait(new RegExp(` 305 ${a} `));
    expect(alice.lines.some((l) => l.includes(`${a}!~u@chat AWAY`))).toBe(false);
  });
});

describe('IRC door: kicks', () => {
  it('KICK with a reason: every door sees it; the kicked IRC client gets KICK and is off the channel', async () => {
    const { c: alice, me: a, chan } = await owner('kk');
    const { c: bob, me: b } = await ircUser('kkbob', chan);
    const { c: carol } = await ircUser('kkcarol', chan);
    const ws = await wsUser(nick('kkws'), chan.slice(1));
    alice.send(`KICK ${chan} ${b} :spamming links`);
    const line = new RegExp(`^:${a}!~u@chat KICK ${chan} ${b} :spamming links$`);
    await alice.wait(line);
    await bob.wait(line);
    await carol.wait(line);
    await ws.next(
      (m) => m.type === 'user_left' && m.payload.kicked_by === a && m.payload.reason === 'spamming links',
    );
    bob.send(`PRIVMSG ${chan} :still here?`);
    await bob.wait(new RegExp(` 404 ${b} ${chan} :`));
    bob.send(`PART ${chan}`);
    await bob.wait(new RegExp(` 442 ${b} ${chan} :`));
    // A kick is no ban: the client may come back.
    bob.send(`JOIN ${chan}`);
    await alice.wait(new RegExp(`^:${b}!~u@chat JOIN ${chan}$`));
  });

  it('KICK by a non-operator is 482; of a nick not on the channel 441', async () => {
    const { c: alice, me: a, chan } = await owner('kn');
    const { c: bob, me: b } = await ircUser('knbob', chan);
    bob.send(`KICK ${chan} ${a} :coup`);
    await bob.wait(new RegExp(` 482 ${b} ${chan} :`));
    const { me: away } = await ircUser('knout');
    alice.send(`KICK ${chan} ${away}`);
    await alice.wait(new RegExp(` 441 ${a} ${away} ${chan} :`));
  });

  it('a kick from a WebSocket operator reaches IRC as KICK', async () => {
    const opName = nick('wsop');
    await account(opName);
    const ws = track(await TestClient.open(server.url));
    await ws.request('hello', { user_name: opName, password: PW });
    const r = room();
    await ws.request('join', { room_id: r });
    const { c: bob, me: b } = await ircUser('wkbob', `#${r}`);
    ws.send('kick', { room_id: r, user_name: b, reason: 'bye' });
    await bob.wait(new RegExp(`^:${opName}!~u@chat KICK #${r} ${b} :bye$`));
  });
});

describe('IRC door: invitations and +i', () => {
  it('+i: JOIN is 473 until INVITE (341 to the inviter, INVITE to the invitee); 443 for a member', async () => {
    const { c: alice, me: a, chan } = await owner('inv');
    const { c: member, me: mn } = await ircUser('invm', chan);
    alice.send(`MODE ${chan} +i`);
    await alice.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+i$`));
    await member.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+i$`));
    const { c: bob, me: b } = await ircUser('invbob');
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(` 473 ${b} ${chan} :Cannot join channel \\(\\+i\\)`));
    alice.send(`INVITE ${b} ${chan}`);
    await alice.wait(new RegExp(` 341 ${a} ${b} :${chan}$`));
    await bob.wait(new RegExp(`^:${a}!~u@chat INVITE ${b} ${chan}$`));
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(`^:${b}!~u@chat JOIN ${chan}$`));
    alice.send(`INVITE ${mn} ${chan}`);
    await alice.wait(new RegExp(` 443 ${a} ${mn} ${chan} :is already on channel`));
    member.send(`INVITE ${b} ${chan}`);
    await member.wait(new RegExp(` (482|443) ${mn} `));
  });
});

describe('IRC door: bans', () => {
  it('MODE +b nick!*@*: the ban list shows it (367/368), the banned nick is removed and gets 474 on JOIN; -b lifts it', async () => {
    const { c: alice, me: a, chan } = await owner('ban');
    const { c: bob, me: b } = await ircUser('banbob', chan);
    alice.send(`MODE ${chan} +b ${b}!*@*`);
    await alice.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+b ${b}!\\*@\\*$`));
    await bob.wait(new RegExp(`^:${a}!~u@chat KICK ${chan} ${b} :banned$`));
    alice.send(`MODE ${chan} b`);
    await alice.wait(new RegExp(` 367 ${a} ${chan} ${b}!\\*@\\* ${a} :\\d+$`));
    await alice.wait(new RegExp(` 368 ${a} ${chan} :End of channel ban list`));
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(` 474 ${b} ${chan} :Cannot join channel \\(\\+b\\)`));
    alice.send(`MODE ${chan} -b ${b}!*@*`);
    await alice.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} -b ${b}!\\*@\\*$`));
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(`^:${b}!~u@chat JOIN ${chan}$`));
  });

  it('an address ban is *!*@address; a mask naming an ident or host is refused, not silently useless', async () => {
    const { c: alice, me: a, chan } = await owner('bam');
    alice.send(`MODE ${chan} +b *!*@203.0.113.*`);
    await alice.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+b \\*!\\*@203\\.0\\.113\\.\\*$`));
    alice.send(`MODE ${chan} +b *!*@198.51.100.0/24`);
    await alice.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+b \\*!\\*@198\\.51\\.100\\.0/24$`));
    alice.send(`MODE ${chan} +b *!ident@host.example`);
    await alice.wait(new RegExp(`FAIL MODE INVALID_MODE_PARAM ${chan} b \\*!ident@host\\.example :`));
  });

  it('a ban from WebSocket reaches IRC as MODE +b', async () => {
    const { c: alice, me: a, chan } = await owner('bws');
    const { c: bob } = await ircUser('bwsbob', chan);
    alice.send(`MODE ${chan} +b *!*@192.0.2.*`);
    await bob.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+b \\*!\\*@192\\.0\\.2\\.\\*$`));
  });
});

describe('IRC door: roles and modes', () => {
  it('MODE +v/-v and +o/-o: MODE lines to every IRC client, NAMES and WHO prefixes; a returning operator gets +o', async () => {
    const { c: alice, me: a, chan } = await owner('role', ['multi-prefix']);
    const bname = nick('rolebob');
    await account(bname);
    const bob = track(await IrcTestClient.register(port, bname, { pass: PW }));
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(` 366 ${bname} ${chan} `));
    const { c: carol, me: cn } = await ircUser('rolecarol', chan, ['userhost-in-names']);
    alice.send(`MODE ${chan} +v ${cn}`);
    await carol.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+v ${cn}$`));
    alice.send(`MODE ${chan} +o ${bname}`);
    await carol.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+o ${bname}$`));
    carol.send(`NAMES ${chan}`);
    const names = (await carol.waitCount(new RegExp(` 353 ${cn} = ${chan} :`), 2))[1]!;
    expect(names).toContain(`@${a}!~u@chat`);
    expect(names).toContain(`@${bname}!~u@chat`);
    expect(names).toContain(`+${cn}!~u@chat`);
    carol.send(`WHO ${chan}`);
    await carol.wait(new RegExp(` 352 ${cn} ${chan} ~${cn.slice(0, 9)} chat irc\\.test ${cn} H\\+ `));
    await carol.wait(new RegExp(` 352 ${cn} ${chan} ~${bname.slice(0, 9)} chat irc\\.test ${bname} H@ `));
    alice.send(`MODE ${chan} -v ${cn}`);
    await carol.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} -v ${cn}$`));
    // The operator leaves and comes back: the channel learns its status again.
    bob.send(`PART ${chan}`);
    await carol.wait(new RegExp(`^:${bname}!~u@chat PART ${chan}$`));
    bob.send(`JOIN ${chan}`);
    await carol.wait(new RegExp(`^:${bname}!~u@chat JOIN ${chan}$`));
    await carol.wait(new RegExp(`^:irc\\.test MODE ${chan} \\+o ${bname}$`));
    alice.send(`MODE ${chan} -o ${bname}`);
    await carol.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} -o ${bname}$`));
    // A member who is no operator cannot change modes.
    carol.send(`MODE ${chan} +m`);
    await carol.wait(new RegExp(` 482 ${cn} ${chan} :`));
  });

  it('a standing operator renamed away from its registered nick: NICK, then MODE -o from the server', async () => {
    const { c: alice, me: a, chan } = await owner('renop');
    const bname = nick('renopbob');
    await account(bname);
    const bob = track(await IrcTestClient.register(port, bname, { pass: PW }));
    bob.send(`JOIN ${chan}`);
    await bob.wait(new RegExp(` 366 ${bname} ${chan} `));
    alice.send(`MODE ${chan} +o ${bname}`);
    await bob.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+o ${bname}$`));
    const guestNick = nick('renopguest');
    bob.send(`NICK ${guestNick}`);
    await alice.wait(new RegExp(`^:${bname}!~u@chat NICK :?${guestNick}$`));
    await alice.wait(new RegExp(`^:irc\\.test MODE ${chan} -o ${guestNick}$`));
    // The renamed client is told too, and the NAMES that follow agree.
    await bob.wait(new RegExp(`^:irc\\.test MODE ${chan} -o ${guestNick}$`));
    alice.send(`NAMES ${chan}`);
    // The second 353: the first was the join burst's.
    const names = (await alice.waitCount(new RegExp(` 353 ${a} = ${chan} :`), 2))[1]!;
    expect(names).toContain(` ${guestNick}`);
    expect(names).not.toContain(`@${guestNick}`);
  });

  it('MODE #c is 324 with the modes and 329 with the creation time; +m: a member without voice gets 404, with voice speaks; 472 for an unknown mode', async () => {
    const { c: alice, me: a, chan } = await owner('mod');
    const { c: bob, me: b } = await ircUser('modbob', chan);
    const ws = await wsUser(nick('modws'), chan.slice(1));
    const before = bob.lines.length;
    bob.send(`MODE ${chan}`);
    await bob.wait(new RegExp(` 329 ${b} ${chan} :?\\d+$`));
    const answer = bob.since(before).filter((l) => / 32[49] /.test(l));
    expect(answer[0]).toMatch(new RegExp(` 324 ${b} ${chan} :\\+$`));
    const created = Number(answer[1]!.split(' ').at(-1)!.replace(':', ''));
    expect(Math.abs(Date.now() / 1000 - created)).toBeLessThan(60);
    alice.send(`MODE ${chan} +mtx`);
    await alice.wait(new RegExp(` 472 ${a} x :is unknown mode char to me`));
    await bob.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} \\+mt$`));
    bob.send(`MODE ${chan}`);
    await bob.wait(new RegExp(` 324 ${b} ${chan} :\\+mt$`));
    bob.send(`PRIVMSG ${chan} :can I talk?`);
    await bob.wait(new RegExp(` 404 ${b} ${chan} :Cannot send to channel`));
    alice.send(`MODE ${chan} +v ${b}`);
    await bob.wait(new RegExp(` MODE ${chan} \\+v ${b}$`));
    bob.send(`PRIVMSG ${chan} :now I can`);
    await ws.next((m) => m.type === 'message' && m.payload.message === 'now I can');
    ws.send('mode', { room_id: chan.slice(1), modes: '-m' });
    alice.send(`MODE ${chan} -m`);
    await bob.wait(new RegExp(`^:${a}!~u@chat MODE ${chan} -m$`));
  });
});

describe('IRC door: part and quit reasons, /me, KILL', () => {
  it('PART with a reason reaches IRC, WebSocket and TCP users with it', async () => {
    const r = room();
    const { c: alice, me: a } = await ircUser('pr', `#${r}`);
    const { c: bob } = await ircUser('prbob', `#${r}`);
    const ws = await wsUser(nick('prws'), r);
    const tcp = track(await TcpTestClient.login(server.tcpPort!, nick('prtcp')));
    tcp.write(`/join #${r}\n`);
    await tcp.waitLine(new RegExp(`you joined #${r}`));
    alice.send(`PART #${r} :off to lunch`);
    await alice.wait(new RegExp(`^:${a}!~u@chat PART #${r} :off to lunch$`));
    await bob.wait(new RegExp(`^:${a}!~u@chat PART #${r} :off to lunch$`));
    await ws.next(
      (m) =>
        m.type === 'user_left' &&
        m.payload.user_name === a &&
        m.payload.reason === 'off to lunch' &&
        m.payload.quit === undefined,
    );
    await tcp.waitLine(new RegExp(`${a} left #${r} \\(off to lunch\\)`));
  });

  it('QUIT with a reason reaches others as QUIT :Quit: reason, from IRC and from WebSocket alike', async () => {
    const r = room();
    const { c: alice, me: a } = await ircUser('qr', `#${r}`);
    const { c: bob } = await ircUser('qrbob', `#${r}`);
    const wsName = nick('qrws');
    const ws = await wsUser(wsName, r);
    ws.send('quit', { reason: 'see you tomorrow' });
    await bob.wait(new RegExp(`^:${wsName}!~u@chat QUIT :Quit: see you tomorrow$`));
    const other = await wsUser(nick('qrws2'), r);
    alice.send('QUIT :gone for the day');
    await alice.wait(/^ERROR :Closing link: Quit: gone for the day$/);
    await bob.wait(new RegExp(`^:${a}!~u@chat QUIT :Quit: gone for the day$`));
    await other.next(
      (m) => m.type === 'user_left' && m.payload.user_name === a && m.payload.reason === 'gone for the day',
    );
  });

  it('/me from IRC is an action for every door', async () => {
    const r = room();
    const { c: alice, me: a } = await ircUser('me', `#${r}`);
    const ws = await wsUser(nick('mews'), r);
    alice.send(`PRIVMSG #${r} :\x01ACTION waves\x01`);
    await ws.next(
      (m) =>
        m.type === 'message' &&
        m.payload.user_name === a &&
        m.payload.kind === 'action' &&
        m.payload.message === 'waves',
    );
  });

  it('KILL by a server operator: the victim gets ERROR, the rooms see QUIT :Killed (...); anybody else gets 481', async () => {
    await account('boss');
    const boss = track(await IrcTestClient.register(port, 'boss', { pass: PW }));
    const r = room();
    const { c: victim, me: v } = await ircUser('victim', `#${r}`);
    const { c: watcher, me: w } = await ircUser('watcher', `#${r}`);
    watcher.send(`KILL ${v} :nope`);
    await watcher.wait(new RegExp(` 481 ${w} :`));
    boss.send(`KILL ${v} :flooding`);
    await victim.wait(/^ERROR :Closing link: Killed \(boss \(flooding\)\)$/);
    await watcher.wait(new RegExp(`^:${v}!~u@chat QUIT :Killed \\(boss \\(flooding\\)\\)$`));
    await boss.wait(/ NOTICE boss :Killed /);
  });

  it('quit words that read like a kill are shown as a quit: through IRC and WebSocket, only a real KILL carries killed_by', async () => {
    await account('root');
    const r = room();
    const { c: watcher } = await ircUser('fakewatch', `#${r}`);
    const ws = await wsUser(nick('fakews'), r);
    const { c: faker, me: f } = await ircUser('faker', `#${r}`);
    faker.send('QUIT :killed by root: spamming');
    await watcher.wait(new RegExp(`^:${f}!~u@chat QUIT :Quit: killed by root: spamming$`));
    const left = await ws.next((m) => m.type === 'user_left' && m.payload.user_name === f);
    expect(left.type === 'user_left' && left.payload.killed_by).toBeUndefined();
    const { c: faker2, me: f2 } = await ircUser('faker', `#${r}`);
    faker2.send('QUIT :Killed (root (spamming))');
    await watcher.wait(new RegExp(`^:${f2}!~u@chat QUIT :Quit: Killed \\(root \\(spamming\\)\\)$`));
    const wsFaker = nick('fakerws');
    const wsf = await wsUser(wsFaker, r);
    wsf.send('quit', { reason: 'killed by root: spamming' });
    await watcher.wait(new RegExp(`^:${wsFaker}!~u@chat QUIT :Quit: killed by root: spamming$`));
    // The real one, for comparison: the field, and IRC's Killed wording.
    const root = track(await IrcTestClient.register(port, 'root', { pass: PW }));
    const { me: v } = await ircUser('realvictim', `#${r}`);
    root.send(`KILL ${v} :spamming`);
    await watcher.wait(new RegExp(`^:${v}!~u@chat QUIT :Killed \\(root \\(spamming\\)\\)$`));
    const killed = await ws.next((m) => m.type === 'user_left' && m.payload.user_name === v);
    expect(killed.type === 'user_left' && killed.payload).toMatchObject({
      killed_by: 'root',
      quit: true,
      reason: 'killed by root: spamming',
    });
    root.close();
  });
});

describe('IRC door: nicks IRC cannot write', () => {
  it('a chat nick with ! @ : , * ? is shown with _ and can be messaged, looked up and kicked by that name', async () => {
    const { c: alice, me: a, chan } = await owner('odd');
    const odd = `x!y@z${++n}`;
    const shown = odd.replace(/[!@]/g, '_');
    const ws = await wsUser(odd, chan.slice(1));
    await alice.wait(new RegExp(`^:${shown}!~u@chat JOIN ${chan}$`));
    alice.send(`PRIVMSG ${shown} :can you read this?`);
    await ws.next(
      (m) => m.type === 'dm' && m.payload.from === a && m.payload.message === 'can you read this?',
    );
    alice.send(`WHOIS ${shown}`);
    await alice.wait(new RegExp(` 311 ${a} ${shown} ~u chat \\* :${shown}$`));
    alice.send(`KICK ${chan} ${shown} :odd one out`);
    await ws.next((m) => m.type === 'user_left' && m.payload.user_name === odd && m.payload.kicked_by === a);
  });

  it('a name two chat nicks share once written with _ reaches neither (never the wrong one)', async () => {
    const r = room();
    const { c, me } = await ircUser('amb', `#${r}`);
    const base = `p${++n}`;
    await wsUser(`${base}!q`, r);
    await wsUser(`${base}@q`, r);
    c.send(`PRIVMSG ${base}_q :which one?`);
    await c.wait(new RegExp(` 401 ${me} ${base}_q :No such nick`));
  });
});
