import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/server.js';
import { startTestServer } from '../../helpers/test-server.js';
import { TcpTestClient } from '../../helpers/tcp-client.js';
import { TestClient } from '../../helpers/ws-client.js';

let server: RunningServer;
let port: number;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer({
    tcpPort: 0,
    rateLimit: false,
  });
  port = server.tcpPort!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function wsUser(name: string, room = 'lobby'): Promise<TestClient> {
  const ws = track(await TestClient.open(server.url));
  await ws.request('join', { room_id: room, user_name: name });
  return ws;
}

const isMessage = (text: string) => (m: ServerMessage) => m.type === 'message' && m.payload.message === text;

describe('TCP line transport: the nick prompt', () => {
  it('asks for a nick, then joins the default room and says so', async () => {
    const c = track(await TcpTestClient.connect(port));
    await c.waitText('nick: ');
    const name = nick('tina');
    c.write(`${name}\n`);
    await c.waitLine(`*** hello ${name}`);
    await c.waitLine(`*** you joined #lobby; here: `);
  });

  it('asks again, with the server reason, after a bad nick and after a taken one', async () => {
    const holder = nick('held');
    await wsUser(holder);
    const c = track(await TcpTestClient.connect(port));
    await c.waitText('nick: ');
    c.write('two words\n');
    await c.waitText('nick: ', 2);
    c.write('\x1b[31mred\n');
    await c.waitText('nick: ', 3);
    c.write(`${holder.toUpperCase()}\r\n`);
    await c.waitText('nick: ', 4);
    const ok = nick('free');
    c.write(`${ok}\n`);
    await c.waitLine('*** you joined #lobby');
    expect(c.lines).toContain('nick: *** error: a nick cannot contain spaces');
    expect(c.lines.some((l) => l.includes('*** error: user_name: a nick cannot contain'))).toBe(true);
    expect(c.lines).toContain(`nick: *** error: ${holder} is online already; pick another nick`);
  });

  it('asks for the password of a registered nick', async () => {
    const name = nick('reg');
    const owner = track(await TcpTestClient.login(port, name));
    owner.write('/register hunter2hunter2\n/quit\n');
    await owner.waitLine(`*** registered ${name}`);
    await owner.waitClosed();

    const c = track(await TcpTestClient.connect(port));
    await c.waitText('nick: ');
    c.write(`${name}\n`);
    await c.waitText('password: ');
    c.write('wrong-password\n');
    await c.waitLine(`*** error: wrong password for ${name}`);
    await c.waitText('nick: ', 2);
    c.write(`${name}\n`);
    await c.waitText('password: ', 2);
    c.write('hunter2hunter2\n');
    await c.waitLine('*** you joined #lobby');
  });

  it('after /register, says how to sign in next time, and that way works', async () => {
    const name = nick('hint');
    const owner = track(await TcpTestClient.login(port, name));
    owner.write('/register hunter2hunter2\n/quit\n');
    const hint = `*** registered ${name}; next time answer the nick prompt with ${name}, then give the password when asked`;
    await owner.waitLine(hint);
    await owner.waitClosed();
    // Exactly as the hint says: the nick at the prompt, then the password.
    const c = track(await TcpTestClient.connect(port));
    await c.waitText('nick: ');
    c.write(`${name}\n`);
    await c.waitText('password: ');
    c.write('hunter2hunter2\n');
    await c.waitLine('*** you joined #lobby');
  });

  it('answers /help and /quit before a nick is picked', async () => {
    const c = track(await TcpTestClient.connect(port));
    await c.waitText('nick: ');
    c.write('/help\n');
    await c.waitLine(/^\*\*\* +\/join <room>/);
    c.write('/quit\n');
    await c.waitClosed();
    expect(c.lines.at(-1)).toBe('*** bye');
  });
});

describe('TCP line transport: chatting', () => {
  it("sends each line to the current room and shows others' messages as [HH:MM] #room <nick> text", async () => {
    const wsName = nick('web');
    const ws = await wsUser(wsName);
    const tcpName = nick('line');
    const c = track(await TcpTestClient.login(port, tcpName));
    c.write('hello from nc\n');
    await ws.next(isMessage('hello from nc'));
    ws.send('message', { room_id: 'lobby', message: 'hello from ws' });
    const line = await c.waitLine((l) => l.endsWith(`<${wsName}> hello from ws`));
    expect(line).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d\\] #lobby <${wsName}> hello from ws$`));
    await c.waitLine((l) => l.endsWith(`#lobby <${tcpName}> hello from nc`));
  });

  it('shows joins, leaves and renames of others as *** lines', async () => {
    const c = track(await TcpTestClient.login(port, nick('watch')));
    const other = nick('mover');
    const ws = await wsUser(other);
    await c.waitLine(`*** ${other} joined #lobby`);
    await ws.request('nick', { user_name: `${other}x` });
    await c.waitLine(`*** ${other} is now known as ${other}x`);
    await ws.request('leave', { room_id: 'lobby' });
    await c.waitLine(`*** ${other}x left #lobby`);
  });

  it('shows recent history on join, rendered like live messages', async () => {
    const room = `hist${++n}`;
    const ws = await wsUser(nick('old'), room);
    ws.send('message', { room_id: room, message: 'before you came' });
    await ws.next(isMessage('before you came'));
    const c = track(await TcpTestClient.login(port, nick('late')));
    c.write(`/join ${room}\n`);
    await c.waitLine(`*** you joined #${room}`);
    await c.waitLine((l) => l.endsWith('before you came') && l.includes(`#${room} <`));
  });

  it('/join switches the current room, /leave goes back to the previous one', async () => {
    const room = `room${++n}`;
    const ws = await wsUser(nick('inroom'), room);
    const lobbyWs = await wsUser(nick('inlobby'));
    const c = track(await TcpTestClient.login(port, nick('switch')));
    c.write(`/join #${room}\nto the room\n`);
    await ws.next(isMessage('to the room'));
    c.write(`/leave\nback in lobby\n`);
    await c.waitLine(`*** you left #${room}`);
    await c.waitLine('*** now talking in #lobby');
    await lobbyWs.next(isMessage('back in lobby'));
    expect(ws.received.some((m) => m.type === 'message' && m.payload.message === 'back in lobby')).toBe(
      false,
    );
  });

  it('/users, /rooms, /msg, /nick and unknown commands', async () => {
    const me = nick('cmd');
    const friend = nick('friend');
    const ws = await wsUser(friend);
    const c = track(await TcpTestClient.login(port, me));
    c.write('/users\n');
    await c.waitLine((l) => l.startsWith('*** in #lobby: ') && l.includes(friend) && l.includes(me));
    c.write('/rooms\n');
    await c.waitLine(/^\*\*\* \d+ room\(s\):$/);
    await c.waitLine(/^\*\*\* {3}#lobby {2}\d+ here$/);
    c.write(`/msg ${friend} psst there\n`);
    const dm = await ws.next((m) => m.type === 'dm');
    expect(dm.payload).toMatchObject({ from: me, to: friend, message: 'psst there' });
    await c.waitLine((l) => l.endsWith(`*dm to ${friend}* <${me}> psst there`));
    ws.send('dm', { to: me, message: 'back at you' });
    await c.waitLine((l) => /^\[\d\d:\d\d\] \*dm\* </.test(l) && l.endsWith(`<${friend}> back at you`));
    c.write(`/nick ${me}z\nafter rename\n`);
    await c.waitLine(`*** you are now known as ${me}z`);
    const renamed = await ws.next(isMessage('after rename'));
    expect(renamed.payload).toMatchObject({ user_name: `${me}z` });
    c.write('/frobnicate\n/join\n');
    await c.waitLine('*** error: unknown command /frobnicate; /help lists the commands');
    await c.waitLine('*** error: /join needs exactly one room: /join <room>');
  });

  it('sends //text as a literal /text line and ignores empty lines', async () => {
    const ws = await wsUser(nick('lit'));
    const c = track(await TcpTestClient.login(port, nick('slash')));
    c.write('\n   \n//not a command\n');
    await ws.next(isMessage('/not a command'));
    expect(c.lines.filter((l) => l.includes('error'))).toEqual([]);
  });

  it('/quit says bye, closes, and the room sees the leave', async () => {
    const ws = await wsUser(nick('seer'));
    const name = nick('quitter');
    const c = track(await TcpTestClient.login(port, name));
    c.write('/quit\n');
    await c.waitClosed();
    expect(c.lines.at(-1)).toBe('*** bye');
    await ws.next((m) => m.type === 'user_left' && m.payload.user_name === name);
  });
  it('answers every line piped in before /quit (printf ... | nc), then says bye', async () => {
    const name = nick('piper');
    const c = track(await TcpTestClient.connect(port));
    // One chunk: nothing waits for an answer before the next line, as with `printf ... | nc`.
    c.write(`${name}\nfirst line\n/join piped\nsecond line\n/users\n/msg ${name} note to self\n/quit\n`);
    c.socket.end();
    await c.waitClosed();
    const lines = c.lines;
    expect(lines.some((l) => new RegExp(`#lobby <${name}> first line$`).test(l))).toBe(true);
    expect(lines.some((l) => new RegExp(`#piped <${name}> second line$`).test(l))).toBe(true);
    // It made #piped, so it is its operator (for this connection).
    expect(lines).toContain(`*** in #piped: @${name}`);
    expect(lines.some((l) => l.includes('note to self'))).toBe(true);
    expect(lines.at(-1)).toBe('*** bye');
  });
});

describe('TCP line transport: long and flooding messages', () => {
  it('a newline flood is refused or folded: 10 floods give the reader no more than a few lines', async () => {
    const room = nick('flood');
    const reader = track(await TcpTestClient.login(port, nick('reader')));
    reader.write(`/join ${room}\n`);
    await reader.waitLine(`*** you joined #${room}`);
    const flooderNick = nick('flooder');
    const flooder = await wsUser(flooderNick, room);
    // The join notice may still be in the reader's paced write; count from after it.
    await reader.waitLine(`*** ${flooderNick} joined #${room}`);
    const before = reader.lines.length;
    for (let i = 0; i < 10; i++) {
      // Within the 4,000 characters, as in the attack: 3,997 newlines between two words.
      const reply = await flooder.request('message', {
        room_id: room,
        message: `a${'\n'.repeat(3997)}b${i}`,
      });
      expect(reply.type).toBe('message');
      expect(
        (await flooder.request('message', { room_id: room, message: 'x\n'.repeat(1999) })).payload,
      ).toMatchObject({ code: 'too_many_lines' });
    }
    await reader.waitLine((l) => l.endsWith('b9'));
    // a, one blank line, b: three lines per message.
    expect(reader.lines.length - before).toBe(30);
  });

  it('shows the first lines of a long message with a /show hint, and /show prints it whole', async () => {
    const room = nick('long');
    const reader = track(await TcpTestClient.login(port, nick('reader')));
    reader.write(`/join ${room}\n`);
    await reader.waitLine(`*** you joined #${room}`);
    const author = await wsUser(nick('author'), room);
    const body = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n');
    const ack = await author.request('message', { room_id: room, message: body });
    const seq = (ack.payload as { seq: number }).seq;
    const hint = await reader.waitLine((l) => l.includes('more lines'));
    expect(hint.endsWith(`> [+31 more lines: /show #${room} ${seq}]`)).toBe(true);
    expect(reader.lines.filter((l) => / line \d+$/.test(l)).map((l) => l.replace(/^.* line /, ''))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);

    reader.write(`/show #${room} ${seq}\n`);
    await reader.waitLine((l) => l.endsWith(' line 40'));
    expect(reader.lines.filter((l) => / line \d+$/.test(l))).toHaveLength(9 + 40);
    reader.write(`/show ${room} ${seq + 100}\n`);
    await reader.waitLine(`*** no message ${seq + 100} in #${room}`);
    reader.write(`/show ${room}\n`);
    await reader.waitLine('*** error: /show needs a room and a message number');
  });
});

describe('TCP line transport: bytes on the wire', () => {
  it('reads CRLF, LF and lines split over many writes alike', async () => {
    const ws = await wsUser(nick('bytes'));
    const c = track(await TcpTestClient.login(port, nick('split')));
    c.write('crlf line\r\nlf line\n');
    c.write('par');
    await ws.next(isMessage('lf line'));
    c.write('tial li');
    c.write('ne\r');
    c.write('\n');
    const messages = await ws.waitCount(
      (m) => m.type === 'message' && ['crlf line', 'lf line', 'partial line'].includes(m.payload.message),
      3,
    );
    expect(messages.map((m) => (m.payload as { message: string }).message)).toEqual([
      'crlf line',
      'lf line',
      'partial line',
    ]);
  });

  it('refuses a line over 16 KiB with a clear error and keeps the connection', async () => {
    const ws = await wsUser(nick('long'));
    const c = track(await TcpTestClient.login(port, nick('flood')));
    c.write('x'.repeat(20_000));
    await c.waitLine('*** error: line too long (over 16384 bytes); it was discarded');
    c.write('y'.repeat(20_000) + '\nstill here\n');
    await ws.next(isMessage('still here'));
    expect(c.closed).toBe(false);
    expect(ws.received.some((m) => m.type === 'message' && m.payload.message.startsWith('x'))).toBe(false);
  });

  it('replaces invalid UTF-8 with U+FFFD and goes on', async () => {
    const ws = await wsUser(nick('utf'));
    const c = track(await TcpTestClient.login(port, nick('broken')));
    // 0xC3 0x28: a broken two-byte sequence; 0x80 a stray continuation byte; 0xFE never valid.
    c.write(
      Buffer.concat([Buffer.from('bad '), Buffer.from([0xc3, 0x28, 0x80, 0xfe]), Buffer.from(' bytes\n')]),
    );
    c.write('café ok\n');
    const bad = await ws.next((m) => m.type === 'message' && m.payload.message.startsWith('bad '));
    expect((bad.payload as { message: string }).message).toBe('bad \ufffd(\ufffd\ufffd bytes');
    await ws.next(isMessage('café ok'));
  });

  it('never writes a control character or escape sequence a WebSocket peer sent', async () => {
    const evilNick = nick('evil');
    const ws = await wsUser(evilNick);
    const victim = nick('victim');
    const c = track(await TcpTestClient.login(port, victim));
    const payloads = [
      '\x1b[2J\x1b[Hcleared',
      '\x1b]0;title\x07osc',
      'bell\x07\x07',
      'c1\x9b31m',
      'bidi\u202egnp.exe',
      'nul\x00byte',
      'tab\tand\rcr',
      'del\x7f',
    ];
    for (const p of payloads) ws.send('message', { room_id: 'lobby', message: p });
    ws.send('dm', { to: victim, message: '\x1b[31mred dm' });
    ws.send('message', { room_id: 'lobby', message: 'END' });
    await c.waitLine((l) => l.endsWith(`<${evilNick}> END`));
    await c.waitLine((l) => l.includes('red dm'));
    // Only our own CRLF line endings: no other C0, no DEL, no C1, no bidi controls.
    const text = c.text.replace(/\r\n/g, '\n');
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain(`<${evilNick}> cleared`);
  });
});
