import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server/server.js';
import { maskMatches } from '../../../../src/server/transports/irc/commands.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';

/**
 * What the IRC server conformance suite (irctest) checks of the commands the door offers, where
 * the door once answered otherwise: each case is the exchange irctest makes, over raw TCP.
 */
let server: RunningServer;
let port: number;
const clients: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
let n = 0;
const nick = (base: string): string => `${base}${++n}`;

beforeAll(async () => {
  server = await startTestServer({ ircPort: 0, serverName: 'My.Little.Server', rateLimit: false });
  port = server.ircPort!;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('IRC door conformance (irctest)', () => {
  it('USER with an empty real name or username is 461 (connection_registration testEmptyRealname)', async () => {
    const c = track(await IrcTestClient.connect(port));
    const me = nick('empty');
    c.send(`NICK ${me}`);
    c.send('USER username * * :');
    await c.wait(/^:My\.Little\.Server 461 \* USER :Not enough parameters$/);
    c.send('USER  * * * :Real Name');
    c.send(`USER ${me} * * :Real Name`);
    await c.wait(new RegExp(` 001 ${me} `));
    expect(c.lines.filter((l) => / 461 /.test(l))).toHaveLength(1);
  });

  it('USERHOST marks an away user with - (away testAwayUserhost)', async () => {
    const bar = nick('bar');
    const b = track(await IrcTestClient.register(port, bar));
    const qux = nick('qux');
    const q = track(await IrcTestClient.register(port, qux));
    q.send(`USERHOST ${bar}`);
    await q.wait(new RegExp(` 302 ${qux} :${bar}=\\+~u@chat$`));
    b.send("AWAY :I'm not here right now");
    await b.wait(/ 306 /);
    q.send(`USERHOST ${bar}`);
    await q.wait(new RegExp(` 302 ${qux} :${bar}=-~u@chat$`));
  });

  it('WHO with a mask lists the matching nicks, exact and folded and wildcard alike (who testWhoNick, testWhoNickAway)', async () => {
    const base = `coolNick${++n}`;
    const c = track(await IrcTestClient.register(port, base));
    const other = nick('otherNick');
    const o = track(await IrcTestClient.register(port, other));
    for (const mask of [base, base.toLowerCase(), `${base.slice(0, -2)}*`]) {
      const from = o.lines.length;
      o.send(`WHO ${mask}`);
      await o.wait(new RegExp(` 315 ${other} ${mask.replace('*', '\\*')} :`));
      const rows = o.since(from).filter((l) => / 352 /.test(l));
      expect(rows).toEqual([
        `:My.Little.Server 352 ${other} * ~u chat My.Little.Server ${base} H :0 ${base}`,
      ]);
    }
    c.send('AWAY :be right back');
    await c.wait(/ 306 /);
    o.send(`WHO ${base.slice(0, -1)}?`);
    await o.wait(new RegExp(` 352 ${other} \\* ~u chat My\\.Little\\.Server ${base} G :0 ${base}$`));
    const from = o.lines.length;
    o.send('WHO idontexist');
    await o.wait(new RegExp(` 315 ${other} idontexist :`));
    expect(o.since(from).filter((l) => / 352 /.test(l))).toEqual([]);
  });

  it('UTF8ONLY: a line that is not UTF-8 is refused with FAIL ... INVALID_UTF8 and not relayed (utf8 testUtf8Validation)', async () => {
    const bar = nick('utf');
    const b = track(await IrcTestClient.register(port, bar));
    const foo = nick('utfsender');
    const f = track(await IrcTestClient.register(port, foo, { caps: ['labeled-response', 'batch'] }));
    f.tcp.socket.write(
      Buffer.concat([Buffer.from(`@label=xyz PRIVMSG ${bar} hi`), Buffer.from([0xaa]), Buffer.from('\r\n')]),
    );
    await f.wait(/^@label=xyz :My\.Little\.Server FAIL PRIVMSG INVALID_UTF8 :/);
    // A real U+FFFD is UTF-8 like any other character.
    f.send(`PRIVMSG ${bar} :hi \uFFFD`);
    await b.wait(new RegExp(`PRIVMSG ${bar} :hi \uFFFD$`));
    expect(b.lines.filter((l) => / PRIVMSG /.test(l))).toHaveLength(1);
    const isupport = f.lines.filter((l) => / 005 /.test(l)).join(' ');
    expect(isupport).toContain('UTF8ONLY');
    expect(isupport).toContain('CLIENTTAGDENY=*');
  });

  it('the creator of a channel is its operator: @ in NAMES, and it and whom it ops kick (kick testKickPrivileges)', async () => {
    const chan = `#${nick('kickchan')}`;
    const foo = nick('foo');
    const f = track(await IrcTestClient.register(port, foo));
    f.send(`JOIN ${chan}`);
    await f.wait(new RegExp(` 366 ${foo} ${chan} `));
    const bar = nick('bar');
    const b = track(await IrcTestClient.register(port, bar));
    b.send(`JOIN ${chan}`);
    await b.wait(new RegExp(` 353 ${bar} = ${chan} :@${foo} ${bar}$`));
    const baz = nick('baz');
    const z = track(await IrcTestClient.register(port, baz));
    z.send(`KICK ${chan} ${bar}`);
    await z.wait(new RegExp(` (442|482|403) ${baz} ${chan} :`));
    z.send(`JOIN ${chan}`);
    await z.wait(new RegExp(` 366 ${baz} ${chan} `));
    z.send(`KICK ${chan} ${bar}`);
    await z.wait(new RegExp(` 482 ${baz} ${chan} :`));
    f.send(`MODE ${chan} +o ${baz}`);
    await z.wait(new RegExp(`:${foo}!\\S+ MODE ${chan} \\+o ${baz}$`));
    z.send(`KICK ${chan} ${bar}`);
    z.send(`KICK ${chan} ${foo}`);
    await f.wait(new RegExp(`:${baz}!\\S+ KICK ${chan} ${bar} :`));
    await f.wait(new RegExp(`:${baz}!\\S+ KICK ${chan} ${foo} :`));
    expect(z.lines.filter((l) => / 482 /.test(l))).toHaveLength(1);
  });

  it('an unopped member invites to a channel that is not +i, not to a +i one (invite testInviteUnopped, testInviteInviteOnly)', async () => {
    for (const inviteOnly of [false, true]) {
      const chan = `#${nick('invchan')}`;
      const foo = nick('foo');
      const f = track(await IrcTestClient.register(port, foo));
      const bar = nick('bar');
      const b = track(await IrcTestClient.register(port, bar));
      f.send(`JOIN ${chan}`);
      await f.wait(new RegExp(` 366 ${foo} ${chan} `));
      if (inviteOnly) {
        f.send(`MODE ${chan} +i`);
        await f.wait(new RegExp(`MODE ${chan} \\+i$`));
      }
      // The creator takes its own operator status away.
      f.send(`MODE ${chan} -o ${foo}`);
      await f.wait(new RegExp(`:${foo}!\\S+ MODE ${chan} -o ${foo}$`));
      f.send(`INVITE ${bar} ${chan}`);
      if (inviteOnly) await f.wait(new RegExp(` 482 ${foo} ${chan} :`));
      else {
        await f.wait(new RegExp(` 341 ${foo} ${bar} :?${chan}$`));
        await b.wait(new RegExp(`^:${foo}!\\S+ INVITE ${bar} :?${chan}$`));
      }
    }
  });

  it('masks match as IRC masks do', () => {
    expect(maskMatches('cool*', 'coolNick')).toBe(true);
    expect(maskMatches('COOLNI?K', 'coolnick')).toBe(true);
    expect(maskMatches('*', 'anyone')).toBe(true);
    expect(maskMatches('a.b', 'axb')).toBe(false);
    expect(maskMatches('[x]*', '[x]y')).toBe(true);
    expect(maskMatches('cool', 'coolNick')).toBe(false);
  });
});
