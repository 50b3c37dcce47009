import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../../src/server/server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';

let server: RunningServer;
let port: number;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ircPort: 0,
    serverName: 'irc.test',
    memory: true,
    logLevel: 'silent',
    rateLimit: false,
  });
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
    for (const code of ['002', '003', '004', '005', '251', '254', '255']) expect(text).toMatch(new RegExp(`:irc.test ${code} ${name} `));
    const isupport = c.lines.filter((l) => / 005 /.test(l)).join(' ');
    for (const token of ['CHANTYPES=#', 'CASEMAPPING=ascii', 'NICKLEN=32', 'CHANNELLEN=65', 'LINELEN=512', 'CHATHISTORY=200', 'MSGREFTYPES=msgid,timestamp'])
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
