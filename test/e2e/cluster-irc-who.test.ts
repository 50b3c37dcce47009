import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { IrcTestClient } from '../helpers/irc-client.js';
import { startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { TestClient } from '../helpers/ws-client.js';

// IRC's WHO, WHOX and WHOIS across real `chat serve --redis` processes on one real redis-server
// (issue 17): the username and real name an IRC user gave on node A, and every node's nicks, are
// seen from node B.

let redis: RedisProcess;
let procs: ChatProcess[] = [];
let closers: (() => void)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.admin().flushall();
});
afterEach(async () => {
  for (const close of closers) close();
  closers = [];
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});

async function node(): Promise<ChatProcess> {
  const proc = await spawnChat([
    '--msg-rate',
    '0',
    '--redis',
    redis.url,
    '--irc-port',
    '0',
    '--server-name',
    'irc.test',
  ]);
  procs.push(proc);
  return proc;
}

/** An IRC user registered with irctest's USER line. */
async function ircUser(proc: ChatProcess, nick: string, user: string, real: string): Promise<IrcTestClient> {
  const c = await IrcTestClient.connect(proc.ircPort!);
  closers.push(() => c.close());
  c.send(`NICK ${nick}`);
  c.send(`USER ${user} 0 * :${real}`);
  await c.wait(/ 001 /);
  return c;
}

/** Sends `line`; resolves with the lines that came up to the next `end` line (included). */
async function exchange(c: IrcTestClient, line: string, end: RegExp): Promise<string[]> {
  const from = c.lines.length;
  const before = c.lines.filter((l) => end.test(l)).length;
  c.send(line);
  await c.waitCount(end, before + 1);
  return c.since(from).filter((l) => / (3\d\d|354) /.test(l));
}

describe('IRC WHO and WHOIS across nodes', () => {
  it('WHOIS, WHO nick, WHO mask, WHO #chan and WHOX on node B show an IRC user of node A as USER gave it', async () => {
    const a = await node();
    const b = await node();
    const cool = await ircUser(a, 'coolNick', 'myusernam', 'My UniqueReal Name');
    const ws = await TestClient.open(a.url);
    closers.push(() => ws.close());
    expect((await ws.hello('wsfriend')).type).toBe('welcome');
    const other = await ircUser(b, 'otherNick', 'other', 'Other Person');

    const whois = await exchange(other, 'WHOIS coolNick', / 318 otherNick coolNick /);
    expect(whois[0]).toBe(':irc.test 311 otherNick coolNick ~myusernam chat * :My UniqueReal Name');

    const row = ':irc.test 352 otherNick * ~myusernam chat irc.test coolNick H :0 My UniqueReal Name';
    expect(await exchange(other, 'WHO coolnick', / 315 otherNick coolnick /)).toEqual([
      row,
      ':irc.test 315 otherNick coolnick :End of WHO list',
    ]);
    expect(await exchange(other, 'WHO c?olN*', / 315 otherNick c\?olN\* /)).toContain(row);

    // Every node's nicks: node A's IRC and WebSocket users, node B's own.
    const star = await exchange(other, 'WHO *', / 315 otherNick \* /);
    expect(star.filter((l) => / 352 /.test(l)).sort()).toEqual(
      [
        row,
        ':irc.test 352 otherNick * ~other chat irc.test otherNick H :0 Other Person',
        ':irc.test 352 otherNick * ~u chat irc.test wsfriend H :0 wsfriend',
      ].sort(),
    );

    const whox = await exchange(other, 'WHO coolNick %tcunfar,42', / 315 otherNick coolNick /);
    expect(whox[0]).toBe(':irc.test 354 otherNick 42 * ~myusernam coolNick H 0 :My UniqueReal Name');

    cool.send('JOIN #yard');
    await cool.wait(/ 366 coolNick #yard /);
    other.send('JOIN #yard');
    await other.wait(/ 366 otherNick #yard /);
    const chan = await exchange(other, 'WHO #yard', / 315 otherNick #yard /);
    // coolNick created #yard, so its session is the room's operator (`@`) on every node.
    expect(chan).toContain(
      ':irc.test 352 otherNick #yard ~myusernam chat irc.test coolNick H@ :0 My UniqueReal Name',
    );

    // +i on node A: node B's masks list coolNick while they share #yard, and not after.
    cool.send('MODE coolNick +i');
    await cool.wait(/ MODE coolNick :?\+i$/);
    const listed = async () =>
      (await exchange(other, 'WHO c?olN*', / 315 otherNick c\?olN\* /)).some((l) =>
        / 352 .* coolNick /.test(l),
      );
    expect(await listed()).toBe(true);
    other.send('PART #yard');
    await other.wait(/ PART #yard/);
    expect(await listed()).toBe(false);
  });

  it('a nick that left the cluster is no longer listed by WHO masks on any node', async () => {
    const a = await node();
    const b = await node();
    const gone = await ircUser(a, 'goner', 'gone', 'Soon Gone');
    const other = await ircUser(b, 'watcher', 'watch', 'Watcher');
    expect(
      (await exchange(other, 'WHO gon*', / 315 watcher gon\* /)).some((l) => / 352 .* goner /.test(l)),
    ).toBe(true);
    gone.send('QUIT :bye');
    await gone.waitClosed();
    // Node A releases the nick after the socket closed: asked again until it is gone.
    for (let i = 0; ; i++) {
      const rows = (await exchange(other, 'WHO gon*', / 315 watcher gon\* /)).filter((l) => / 352 /.test(l));
      if (rows.length === 0) break;
      if (i > 200) throw new Error('goner is still listed');
    }
    expect(Object.values(await redis.admin().hgetall('chat:online')).sort()).toEqual(['watcher']);
  });

  it('MONITOR on node B hears a nick come online and go on node A, renames too; + sees one already online there', async () => {
    const a = await node();
    const b = await node();
    const watcher = await ircUser(b, 'watcher', 'watch', 'Watcher');
    watcher.send('MONITOR + bar,early');
    await watcher.wait(/^:irc\.test 731 watcher :bar,early$/);
    const early = await ircUser(a, 'early', 'e', 'Early');
    await watcher.wait(/^:irc\.test 730 watcher :early!~u@chat$/);
    const ws = await TestClient.open(a.url);
    closers.push(() => ws.close());
    expect((await ws.hello('bar')).type).toBe('welcome');
    await watcher.wait(/^:irc\.test 730 watcher :bar!~u@chat$/);
    expect((await ws.request('nick', { user_name: 'baz' })).type).toBe('nick_changed');
    await watcher.wait(/^:irc\.test 731 watcher :bar$/);
    early.send('QUIT :bye');
    await watcher.wait(/^:irc\.test 731 watcher :early$/);
    // A new watcher on node B: MONITOR + answers from Redis for a nick held on node A.
    const late = await ircUser(b, 'late', 'l', 'Late');
    late.send('MONITOR + baz,early');
    await late.wait(/^:irc\.test 730 late :baz!~u@chat$/);
    await late.wait(/^:irc\.test 731 late :early$/);
  });
});
