import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../../src/protocol/events.js';
import type { RunningServer } from '../../../../src/server/server.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';
import { TcpTestClient } from '../../../helpers/tcp-client.js';
import { TestClient } from '../../../helpers/ws-client.js';

let server: RunningServer;
let port: number;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer({ ircPort: 0, tcpPort: 0, serverName: 'irc.test', rateLimit: false });
  port = server.ircPort!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('IRC door: registration', () => {
  it('greets with 001-005, LUSERS and 422 (no MOTD), from the server name', async () => {
    const name = nick('reg');
    const c = track(await IrcTestClient.register(port, name));
    await c.wait(/ 422 /);
    const text = c.lines.join('\n');
    expect(text).toContain(`:irc.test 001 ${name} :Welcome`);
    for (const code of ['002', '003', '004', '005', '251', '254', '255'])
      expect(text).toMatch(new RegExp(`:irc.test ${code} ${name} `));
    const isupport = c.lines.filter((l) => / 005 /.test(l)).join(' ');
    for (const token of [
      'CHANTYPES=#',
      'CASEMAPPING=ascii',
      'NICKLEN=32',
      'CHANNELLEN=65',
      'LINELEN=512',
      'CHATHISTORY=200',
      'MSGREFTYPES=msgid,timestamp',
    ])
      expect(isupport).toContain(token);
  });

  it('answers 451 before registration and 421 after, 461 for missing parameters', async () => {
    const c = track(await IrcTestClient.connect(port));
    c.send('JOIN #lobby');
    await c.wait(/ 451 \* :You have not registered/);
    c.send('NICK');
    await c.wait(/ 431 /);
    c.send('USER onlyone');
    await c.wait(/ 461 \* USER :Not enough parameters/);
    const name = nick('later');
    c.send(`NICK ${name}`);
    c.send(`USER ${name} 0 * :x`);
    await c.wait(/ 001 /);
    c.send('FROBNICATE');
    await c.wait(new RegExp(` 421 ${name} FROBNICATE :Unknown command`));
  });

  it('433 for a nick in use, 432 for an erroneous one; another NICK then registers', async () => {
    const holder = nick('holder');
    track(await IrcTestClient.register(port, holder));
    const c = track(await IrcTestClient.connect(port));
    c.send(`NICK ${holder}`);
    c.send('USER x 0 * :x');
    await c.wait(new RegExp(` 433 \\* ${holder} :`));
    c.send('NICK bad!nick');
    await c.wait(/ 432 /);
    const ok = nick('ok');
    c.send(`NICK ${ok}`);
    await c.wait(new RegExp(` 001 ${ok} `));
  });
});

async function wsUser(name: string, room = 'lobby'): Promise<TestClient> {
  const ws = track(await TestClient.open(server.url));
  await ws.request('join', { room_id: room, user_name: name });
  return ws;
}

describe('IRC door: channels', () => {
  it('JOIN answers JOIN, 353 and 366; a WebSocket user and an IRC user talk both ways', async () => {
    const room = `r${++n}`;
    const me = nick('ircer');
    const c = track(await IrcTestClient.register(port, me));
    const wsName = nick('webber');
    const ws = await wsUser(wsName, room);
    c.send(`JOIN #${room}`);
    await c.wait(new RegExp(`^:${me}!~u@chat JOIN #${room}$`));
    const names = await c.wait(/ 353 /);
    expect(names).toMatch(new RegExp(`= #${room} :.*${wsName}`));
    await c.wait(new RegExp(` 366 ${me} #${room} :End of /NAMES list`));
    await ws.next((m) => m.type === 'user_joined' && m.payload.user_name === me);
    c.send(`PRIVMSG #${room} :hello from irc`);
    await ws.next(
      (m) => m.type === 'message' && m.payload.message === 'hello from irc' && m.payload.user_name === me,
    );
    ws.send('message', { room_id: room, message: 'hello from ws' });
    await c.wait(new RegExp(`^:${wsName}!~u@chat PRIVMSG #${room} :hello from ws$`));
    c.send(`PART #${room}`);
    await c.wait(new RegExp(`^:${me}!~u@chat PART #${room}$`));
    await ws.next((m) => m.type === 'user_left' && m.payload.user_name === me);
  });

  it('JOIN of several channels at once; a bad name is 403; PART of one not joined is 442', async () => {
    const me = nick('multi');
    const c = track(await IrcTestClient.register(port, me));
    c.send('JOIN #a1,#a2,#bad!name key1,key2');
    await c.wait(/ JOIN #a1$/);
    await c.wait(/ JOIN #a2$/);
    await c.wait(new RegExp(` 403 ${me} #bad!name :No such channel`));
    c.send('PART #a3');
    await c.wait(new RegExp(` 442 ${me} #a3 `));
  });

  it('channels compare without case: JOIN #CaseRoom after #caseroom exists is #caseroom, and PART #CASEROOM leaves it', async () => {
    const me = nick('case');
    const c = track(await IrcTestClient.register(port, me));
    c.send('JOIN #caseroom');
    await c.wait(new RegExp(`^:${me}!~u@chat JOIN #caseroom$`));
    c.send('PART #caseroom');
    await c.wait(new RegExp(`^:${me}!~u@chat PART #caseroom$`));
    c.send('JOIN #CaseRoom');
    await c.wait(new RegExp(`^:${me}!~u@chat JOIN #caseroom$`));
    c.send('PART #CASEROOM');
    await c.wait(new RegExp(`^:${me}!~u@chat PART #caseroom$`));
  });

  it('PRIVMSG to a nick is a DM; to a nick not online is 401', async () => {
    const me = nick('dmer');
    const c = track(await IrcTestClient.register(port, me));
    const other = nick('dmee');
    const ws = await wsUser(other);
    c.send(`PRIVMSG ${other} :psst`);
    await ws.next((m) => m.type === 'dm' && m.payload.from === me && m.payload.message === 'psst');
    ws.send('dm', { to: me, message: 'back at you' });
    await c.wait(new RegExp(`^:${other}!~u@chat PRIVMSG ${me} :back at you$`));
    c.send('PRIVMSG nobody-here :hi');
    await c.wait(new RegExp(` 401 ${me} nobody-here `));
  });

  it('a TCP-line user, a WebSocket user and an IRC user see one room in one order', async () => {
    const room = `order${++n}`;
    const ircName = nick('io');
    const c = track(await IrcTestClient.register(port, ircName, { caps: ['echo-message'] }));
    c.send(`JOIN #${room}`);
    await c.wait(/ 366 /);
    const ws = await wsUser(nick('wo'), room);
    const tcp = track(await TcpTestClient.login(server.tcpPort!, nick('to')));
    tcp.write(`/join ${room}\n`);
    await tcp.waitLine(`*** you joined #${room}`);
    for (let i = 0; i < 5; i++) {
      c.send(`PRIVMSG #${room} :irc ${i}`);
      ws.send('message', { room_id: room, message: `ws ${i}` });
      tcp.write(`tcp ${i}\n`);
    }
    const wsSeen = (await ws.waitCount((m) => m.type === 'message' && m.payload.room_id === room, 15)).map(
      (m) => (m.type === 'message' ? m.payload.message : ''),
    );
    const ircSeen = (await c.waitCount(new RegExp(`PRIVMSG #${room} :`), 15)).map((l) =>
      l.replace(/^.* :/, ''),
    );
    expect(ircSeen).toEqual(wsSeen);
  });
});

describe('IRC door: nick changes', () => {
  it('your own NICK comes back once, however many channels you are in; others see it once too', async () => {
    const me = nick('renamer');
    const c = track(await IrcTestClient.register(port, me));
    const watcher = track(await IrcTestClient.register(port, nick('watcher')));
    for (const x of [c, watcher]) {
      x.send(`JOIN #nk${n}a,#nk${n}b`);
      await x.waitCount(/ 366 /, 2);
    }
    const renamed = nick('renamed');
    c.send(`NICK ${renamed}`);
    await c.wait(new RegExp(`^:${me}!~u@chat NICK ${renamed}$`));
    await watcher.wait(new RegExp(`^:${me}!~u@chat NICK ${renamed}$`));
    // A barrier: everything the rename caused was sent before the answer to this.
    for (const x of [c, watcher]) {
      x.send('PING :after-nick');
      await x.wait(/PONG \S+ :after-nick/);
      expect(x.lines.filter((l) => / NICK /.test(l))).toHaveLength(1);
    }
  });
});

describe('IRC door: capabilities and tags', () => {
  it('CAP LS 302 lists the caps; REQ of an unknown one is NAK, of known ones ACK; registration waits for CAP END', async () => {
    const c = track(await IrcTestClient.connect(port));
    c.send('CAP LS 302');
    const ls = await c.wait(/ CAP \* LS /);
    for (const cap of [
      'message-tags',
      'server-time',
      'echo-message',
      'batch',
      'labeled-response',
      'sasl=PLAIN',
      'draft/chathistory',
      'away-notify',
      'account-notify',
      'invite-notify',
      'extended-join',
    ])
      expect(ls).toContain(cap);
    const name = nick('capper');
    c.send(`NICK ${name}`);
    c.send(`USER ${name} 0 * :x`);
    c.send('CAP REQ :server-time nonsense-cap');
    await c.wait(/ CAP \* NAK :server-time nonsense-cap/);
    c.send('CAP REQ :server-time message-tags');
    await c.wait(/ CAP \* ACK :server-time message-tags/);
    expect(c.lines.some((l) => / 001 /.test(l))).toBe(false);
    c.send('CAP END');
    await c.wait(/ 001 /);
    c.send('CAP LIST');
    await c.wait(/ CAP \S+ LIST :server-time message-tags/);
  });

  it('server-time and msgid tags carry the message ts and id; labeled-response labels the echo', async () => {
    const room = `tags${++n}`;
    const me = nick('tagger');
    const c = track(
      await IrcTestClient.register(port, me, {
        caps: ['server-time', 'message-tags', 'echo-message', 'labeled-response', 'batch'],
      }),
    );
    c.send(`JOIN #${room}`);
    await c.wait(/ 366 /);
    const ws = await wsUser(nick('tagws'), room);
    const sent = ws.next((m) => m.type === 'message' && m.payload.message === 'tagged');
    ws.send('message', { room_id: room, message: 'tagged' });
    const m = await sent;
    if (m.type !== 'message') throw new Error('no message');
    const line = await c.wait(/PRIVMSG .* :tagged$/);
    expect(line).toContain(`time=${new Date(m.payload.ts).toISOString()}`);
    expect(line).toContain(`msgid=${m.payload.id}`);
    c.send(`@label=abc PRIVMSG #${room} :mine`);
    const echo = await c.wait(/label=abc.* PRIVMSG #\S+ :mine$/);
    expect(echo).toMatch(new RegExp(`:${me}!~u@chat PRIVMSG`));
    c.send('@label=pp PING :tok');
    await c.wait(/^@label=pp :irc.test PONG irc.test :?tok$/);
    c.send('@label=nothing PONG :x');
    await c.wait(/^@label=nothing :irc.test ACK$/);
  });

  it('a long message reaches IRC split at word boundaries into lines of at most 512 bytes, nothing lost', async () => {
    const room = `long${++n}`;
    const c = track(await IrcTestClient.register(port, nick('reader')));
    c.send(`JOIN #${room}`);
    await c.wait(/ 366 /);
    const ws = await wsUser(nick('writer'), room);
    const words = Array.from({ length: 400 }, (_, i) => `wörd${i}`);
    ws.send('message', { room_id: room, message: words.join(' ') });
    await c.wait(/ :.*wörd399$/);
    const lines = c.lines.filter((l) => l.includes(`PRIVMSG #${room}`));
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(Buffer.byteLength(`${l}\r\n`)).toBeLessThanOrEqual(512);
    const text = lines.map((l) => l.replace(/^.*? :/, '')).join(' ');
    expect(text).toBe(words.join(' '));
  });

  it('an incoming line over 512 bytes is 417 and discarded; the connection goes on', async () => {
    const me = nick('toolong');
    const c = track(await IrcTestClient.register(port, me));
    c.send(`PRIVMSG #lobby :${'x'.repeat(600)}`);
    await c.wait(new RegExp(` 417 ${me} :Input line was too long`));
    c.send('PING :still');
    await c.wait(/ PONG irc.test :?still$/);
  });
});

describe('IRC door: injection', () => {
  it('no CR/LF/NUL or terminal escape reaches another client; a nick cannot smuggle a parameter', async () => {
    const room = `inj${++n}`;
    const c = track(await IrcTestClient.register(port, nick('victim')));
    c.send(`JOIN #${room}`);
    await c.wait(/ 366 /);
    const evil = 'ev:l!x@y';
    const ws = await wsUser(evil, room);
    await c.wait(/ JOIN #/);
    ws.send('message', {
      room_id: room,
      message: 'a\rQUIT :boom\r\n:x PRIVMSG #y :z \x1b[31mred\x07 \x00nul',
    });
    const line = await c.wait(/nul$/);
    expect(line).toMatch(/^:ev_l_x_y!~u@chat PRIVMSG #\S+ :/);
    const all = c.tcp.text;
    expect(all).not.toContain('\x1b');
    expect(all).not.toContain('\x07');
    expect(all).not.toContain('\x00');
    expect(c.lines.some((l) => l.startsWith('QUIT') || l.startsWith(':x PRIVMSG'))).toBe(false);
    // From IRC: a bare CR ends a line, so it cannot carry a second command inside a message.
    const ircEvil = track(await IrcTestClient.register(port, nick('sneak')));
    ircEvil.send(`JOIN #${room}`);
    await ircEvil.wait(/ 366 /);
    ircEvil.tcp.write(`PRIVMSG #${room} :one\rPRIVMSG #${room} :\x1b]0;title\x07two\r\n`);
    const two = await c.wait(/two$/);
    expect(two).toMatch(/PRIVMSG #\S+ :two$/);
  });
});

describe('IRC door: echoed input', () => {
  it('a numeric that quotes what the client sent carries no control character and stays within 512 bytes', async () => {
    const me = nick('echoed');
    const c = track(await IrcTestClient.register(port, me));
    c.send('JOIN #\x1b]0;pwned\x07x');
    await c.wait(/ 403 /);
    c.send(`FROB${'Z'.repeat(450)} ${'y'.repeat(40)}`);
    await c.wait(/ 421 /);
    c.send(`JOIN #${'a'.repeat(400)}`);
    await c.wait(/ 403 .*a{100}/);
    for (const l of c.lines) {
      expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
      expect(Buffer.byteLength(`${l}\r\n`)).toBeLessThanOrEqual(512);
    }
  });
});

describe('IRC door: flood control', () => {
  it('lags a burst, then cuts a client that keeps flooding (Excess Flood)', async () => {
    const c = track(await IrcTestClient.register(port, nick('flooder')));
    let lines = '';
    for (let i = 0; i < 200; i++) lines += `PING :f${i}\r\n`;
    c.tcp.write(lines);
    await c.wait(/^ERROR :Closing link: Excess Flood/);
    await c.waitClosed();
    // What got through before the cut was answered; nothing near the 200 was.
    expect(c.lines.filter((l) => / PONG /.test(l)).length).toBeLessThan(60);
  });
});

async function registeredNick(base: string, password: string): Promise<string> {
  const name = nick(base);
  const ws = await TestClient.open(server.url);
  await ws.hello(name);
  const r = await ws.request('register', { password });
  expect(r.type).toBe('registered');
  ws.close();
  // The nick is free once the hub saw the close.
  while (server.hub.onlineNick(name) !== undefined) await new Promise((r) => setImmediate(r));
  return name;
}

describe('IRC door: registered nicks', () => {
  it('cannot be taken without the password: 433 without PASS, 464 with a wrong one, 001 with the right one', async () => {
    const name = await registeredNick('owner', 'correct horse');
    const c = track(await IrcTestClient.connect(port));
    c.send(`NICK ${name}`);
    c.send('USER x 0 * :x');
    await c.wait(new RegExp(` 433 \\* ${name} :Nickname is registered`));
    c.send('PASS wrong-password');
    c.send(`NICK ${name}`);
    await c.wait(/ 464 \* :Password incorrect/);
    c.send('PASS :correct horse');
    c.send(`NICK ${name}`);
    await c.wait(new RegExp(` 001 ${name} `));
  });

  it('SASL PLAIN logs in (900, 903) and registers under the account nick', async () => {
    const name = await registeredNick('sasl', 'sasl-secret');
    const c = track(await IrcTestClient.connect(port));
    c.send('CAP LS 302');
    c.send('NICK someone-else');
    c.send('USER x 0 * :x');
    c.send('CAP REQ :sasl');
    await c.wait(/ ACK :sasl/);
    c.send('AUTHENTICATE PLAIN');
    await c.wait(/^AUTHENTICATE \+$/);
    c.send(`AUTHENTICATE ${Buffer.from(`\0${name}\0wrong-one`).toString('base64')}`);
    await c.wait(/ 904 /);
    c.send('AUTHENTICATE PLAIN');
    c.send(`AUTHENTICATE ${Buffer.from(`${name}\0${name}\0sasl-secret`).toString('base64')}`);
    await c.wait(new RegExp(` 900 \\* ${name}!~u@chat ${name} :You are now logged in`));
    await c.wait(/ 903 /);
    c.send('CAP END');
    await c.wait(new RegExp(` 001 ${name} `));
  });
});

describe('IRC door: chathistory', () => {
  it('LATEST, BEFORE, AFTER, AROUND and BETWEEN over msgid and timestamp references, in a batch', async () => {
    const room = `hist${++n}`;
    const ws = await wsUser(nick('hw'), room);
    const sent: ChatMessage[] = [];
    for (let i = 1; i <= 30; i++) {
      const m = await ws.request('message', { room_id: room, message: `h${i}` });
      if (m.type === 'message') sent.push(m.payload);
    }
    const c = track(
      await IrcTestClient.register(port, nick('hr'), {
        caps: ['batch', 'server-time', 'message-tags', 'draft/chathistory'],
      }),
    );
    let mark = c.lines.length;
    const fetch = async (cmd: string): Promise<string[]> => {
      mark = c.lines.length;
      c.send(cmd);
      const end = await c.tcp.waitLines(
        (l) => /^:\S+ BATCH -/.test(l),
        1 + c.lines.slice(0, mark).filter((l) => /^:\S+ BATCH -/.test(l)).length,
      );
      expect(end.length).toBeGreaterThan(0);
      const got = c.since(mark);
      expect(got[0]).toMatch(new RegExp(`^:\\S+ BATCH \\+\\S+ chathistory #${room}$`));
      return got.filter((l) => l.includes('PRIVMSG')).map((l) => l.replace(/^.* :/, ''));
    };
    expect(await fetch(`CHATHISTORY LATEST #${room} * 5`)).toEqual(['h26', 'h27', 'h28', 'h29', 'h30']);
    // The client now knows h26..h30 by msgid.
    expect(await fetch(`CHATHISTORY BEFORE #${room} msgid=${sent[25]!.id} 3`)).toEqual(['h23', 'h24', 'h25']);
    expect(await fetch(`CHATHISTORY AFTER #${room} msgid=${sent[25]!.id} 2`)).toEqual(['h27', 'h28']);
    expect(await fetch(`CHATHISTORY AROUND #${room} msgid=${sent[27]!.id} 3`)).toEqual(['h27', 'h28', 'h29']);
    const ts = (i: number): string => new Date(sent[i - 1]!.ts).toISOString();
    // Messages sent in one millisecond share a time: BEFORE a time is the newest strictly earlier.
    const earlier = sent.filter((m) => m.ts < sent[9]!.ts).map((m) => m.message);
    expect(await fetch(`CHATHISTORY BEFORE #${room} timestamp=${ts(10)} 2`)).toEqual(earlier.slice(-2));
    const later = sent.filter((m) => m.ts > sent[19]!.ts).map((m) => m.message);
    expect(await fetch(`CHATHISTORY AFTER #${room} timestamp=${ts(20)} 3`)).toEqual(later.slice(0, 3));
    const between = await fetch(
      `CHATHISTORY BETWEEN #${room} msgid=${sent[25]!.id} msgid=${sent[29]!.id} 10`,
    );
    expect(between).toEqual(['h27', 'h28', 'h29']);
    c.send(`CHATHISTORY BEFORE #${room} nonsense 5`);
    await c.wait(/FAIL CHATHISTORY INVALID_PARAMS BEFORE/);
  });
});
