import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server/server.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';

/**
 * LIST as irctest's list tests (testListEmpty, testListOne, testListNonexistent, testListMask,
 * testListNotMask, testListUsers) exchange it, over raw TCP, on a server of its own per test:
 * they count every channel listed, the default room included.
 */
let server: RunningServer | undefined;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function start(): Promise<number> {
  server = await startTestServer({ ircPort: 0, serverName: 'irc.test', rateLimit: false });
  return server.ircPort!;
}

const END = /^:\S+ 323 /;

/** Sends `LIST ...` and returns the channels of its 322s, in order. */
async function listed(c: IrcTestClient, args: string): Promise<string[]> {
  const from = c.lines.length;
  const ends = c.lines.filter((l) => END.test(l)).length;
  c.send(`LIST${args ? ` ${args}` : ''}`);
  await c.waitCount(END, ends + 1);
  const lines = c.since(from);
  // Never an error numeric, only 321, 322 and 323.
  expect(lines.map((l) => l.split(' ')[1])).toEqual(['321', ...lines.slice(1, -1).map(() => '322'), '323']);
  return lines.filter((l) => / 322 /.test(l)).map((l) => l.split(' ')[3]!);
}

async function joined(c: IrcTestClient, channel: string): Promise<void> {
  c.send(`JOIN ${channel}`);
  await c.wait(new RegExp(` 366 \\S+ ${channel} `));
}

describe('LIST (irctest list)', () => {
  it('lists no channel when nobody is in one, and exactly the one somebody joined', async () => {
    const port = await start();
    const foo = track(await IrcTestClient.register(port, 'foo'));
    const bar = track(await IrcTestClient.register(port, 'bar'));
    // The default room exists, empty: no channel to IRC.
    expect(await listed(bar, '')).toEqual([]);
    await joined(foo, '#chan');
    expect(await listed(bar, '')).toEqual(['#chan']);
    expect(await listed(bar, '#nonexistent')).toEqual([]);
    // Named, an empty room is listed (that is how to find the default room).
    expect(await listed(bar, '#lobby')).toEqual(['#lobby']);
    expect(await listed(bar, '#CHAN,#lobby')).toEqual(['#chan', '#lobby']);
  });

  it('offers ELIST=MNU: masks, !masks and member counts', async () => {
    const port = await start();
    const foo = track(await IrcTestClient.register(port, 'foo'));
    await foo.wait(/ 005 .*ELIST=MNU/);
    await joined(foo, '#chan1');
    await joined(foo, '#chan2');
    const bar = track(await IrcTestClient.register(port, 'bar'));
    await joined(bar, '#chan2');
    const baz = track(await IrcTestClient.register(port, 'baz'));
    const sorted = async (args: string) => (await listed(baz, args)).sort();
    expect(await sorted('*an1')).toEqual(['#chan1']);
    expect(await sorted('#c*n2')).toEqual(['#chan2']);
    expect(await sorted('*an3')).toEqual([]);
    expect(await sorted('#ch*')).toEqual(['#chan1', '#chan2']);
    expect(await sorted('!*an1')).toEqual(['#chan2']);
    expect(await sorted('!*an3')).toEqual(['#chan1', '#chan2']);
    expect(await sorted('!#ch*')).toEqual([]);
    expect(await sorted('>0')).toEqual(['#chan1', '#chan2']);
    expect(await sorted('<1')).toEqual([]);
    expect(await sorted('>1')).toEqual(['#chan2']);
    expect(await sorted('<2')).toEqual(['#chan1']);
    expect(await sorted('<100')).toEqual(['#chan1', '#chan2']);
    // Conditions not offered (creation and topic times) are ignored, not refused.
    expect(await sorted('C>2')).toEqual(['#chan1', '#chan2']);
  });

  it('a mask that would backtrack (*a*a*...*b) over a long room name answers at once', async () => {
    const port = await start();
    const foo = track(await IrcTestClient.register(port, 'foo'));
    await joined(foo, `#${'a'.repeat(40)}`);
    expect(await listed(foo, `${'*a'.repeat(16)}*b`)).toEqual([]);
    expect(await listed(foo, `!${'*a'.repeat(16)}*b`)).toEqual([`#${'a'.repeat(40)}`]);
  });
});
