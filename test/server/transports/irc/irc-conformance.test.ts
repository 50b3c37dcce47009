import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server/server.js';
import { maskMatches } from '../../../../src/server/transports/irc/who.js';
import { startTestServer } from '../../../helpers/test-server.js';
import { IrcTestClient } from '../../../helpers/irc-client.js';
import { TestClient } from '../../../helpers/ws-client.js';

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
    await q.wait(new RegExp(` 302 ${qux} :${bar}=\\+~${bar}@chat$`));
    b.send("AWAY :I'm not here right now");
    await b.wait(/ 306 /);
    q.send(`USERHOST ${bar}`);
    await q.wait(new RegExp(` 302 ${qux} :${bar}=-~${bar}@chat$`));
  });

  /** Sends `line`; resolves with the numerics `codes` that came up to the next `end` line (included). */
  async function exchange(c: IrcTestClient, line: string, end: RegExp, codes: RegExp): Promise<string[]> {
    const from = c.lines.length;
    const before = c.lines.filter((l) => end.test(l)).length;
    c.send(line);
    await c.waitCount(end, before + 1);
    return c.since(from).filter((l) => codes.test(l));
  }

  /** irctest's who.py set-up: coolNick gave `USER myusernam 0 * :My UniqueReal Name`; both in #chan. */
  async function whoSetup(): Promise<{ cool: string; c: IrcTestClient; other: string; o: IrcTestClient }> {
    const cool = `coolNick${++n}`;
    const c = track(await IrcTestClient.connect(port));
    c.send(`NICK ${cool}`);
    c.send('USER myusernam 0 * :My UniqueReal Name');
    await c.wait(/ 001 /);
    const other = nick('otherNick');
    const o = track(await IrcTestClient.register(port, other));
    return { cool, c, other, o };
  }

  it('WHO with a mask lists the matching nicks with the username and real name USER gave (who testWhoNick, testWhoNickAway, testWhoStar)', async () => {
    const { cool, c, other, o } = await whoSetup();
    for (const mask of [cool, cool.toLowerCase(), `${cool.slice(0, -2)}*`]) {
      const from = o.lines.length;
      o.send(`WHO ${mask}`);
      await o.wait(new RegExp(` 315 ${other} ${mask.replace('*', '\\*')} :`));
      const rows = o.since(from).filter((l) => / 352 /.test(l));
      expect(rows).toEqual([
        `:My.Little.Server 352 ${other} * ~myusernam chat My.Little.Server ${cool} H :0 My UniqueReal Name`,
      ]);
    }
    o.send('WHO *');
    await o.wait(
      new RegExp(
        ` 352 ${other} \\* ~${other.slice(0, 9)} chat My\\.Little\\.Server ${other} H :0 ${other} real$`,
      ),
    );
    c.send('AWAY :be right back');
    await c.wait(/ 306 /);
    o.send(`WHO ${cool.slice(0, -1)}?`);
    await o.wait(
      new RegExp(` 352 ${other} \\* ~myusernam chat My\\.Little\\.Server ${cool} G :0 My UniqueReal Name$`),
    );
    const from = o.lines.length;
    o.send('WHO idontexist');
    await o.wait(new RegExp(` 315 ${other} idontexist :`));
    expect(o.since(from).filter((l) => / 352 /.test(l))).toEqual([]);
  });

  it('WHOIS shows the username and real name USER gave, never as the host (whois testWhoisUser)', async () => {
    const { cool, other, o } = await whoSetup();
    for (const query of [cool, `My.Little.Server ${cool}`, `${cool} ${cool}`]) {
      const got = await exchange(o, `WHOIS ${query}`, new RegExp(` 318 ${other} ${cool} :`), / 3\d\d /);
      expect(got[0]).toBe(`:My.Little.Server 311 ${other} ${cool} ~myusernam chat * :My UniqueReal Name`);
    }
  });

  it('USER keeps a safe username (cut, no mask characters) and a sanitised real name', async () => {
    const c = track(await IrcTestClient.connect(port));
    const me = nick('ctl');
    c.send(`NICK ${me}`);
    c.send('USER a@b!c*dlongerthannine 0 * :\x1b[31mRed\x02 Name\x07');
    await c.wait(/ 001 /);
    const other = nick('looker');
    const o = track(await IrcTestClient.register(port, other));
    o.send(`WHOIS ${me}`);
    const line = await o.wait(/ 311 /);
    expect(line).toBe(`:My.Little.Server 311 ${other} ${me} ~abcdlonge chat * :Red Name`);
    // Nothing printable: no real name at all (461), as an empty one.
    const d = track(await IrcTestClient.connect(port));
    d.send(`NICK ${nick('ctl')}`);
    d.send('USER x 0 * :\x01\x02\x03');
    await d.wait(/ 461 \* USER /);
  });

  it('WHOX: 354 with the fields asked for, in the fixed order, and the token (who testWhoxFull, testWhoxToken, testWhoxNoAccount)', async () => {
    const { cool, other, o } = await whoSetup();
    const isupport = o.lines.filter((l) => / 005 /.test(l)).join(' ');
    expect(isupport).toMatch(/ WHOX /);
    const full = new RegExp(
      `^:My\\.Little\\.Server 354 ${other} 123 \\* ~myusernam 255\\.255\\.255\\.255 chat My\\.Little\\.Server ${cool} H 0 [0-9] 0 n/a :My UniqueReal Name$`,
    );
    for (const fields of ['%tcuihsnfdlaor,123', `%${[...'tcuihsnfdlaor'].reverse().join('')},123`]) {
      const got = await exchange(
        o,
        `WHO ${cool} ${fields}`,
        new RegExp(` 315 ${other} ${cool} :`),
        / 3\d\d /,
      );
      expect(got).toHaveLength(2);
      expect(got[0]).toMatch(full);
    }
    o.send(`WHO ${cool} %tn,321`);
    await o.wait(new RegExp(`^:My\\.Little\\.Server 354 ${other} 321 :${cool}$`));
    o.send(`WHO ${cool} %na`);
    await o.wait(new RegExp(`^:My\\.Little\\.Server 354 ${other} ${cool} :0$`));
    // A token that is no 1-3 digit number is not echoed (0, as ircu answers without one).
    o.send(`WHO ${cool} %tn,abcd`);
    await o.wait(new RegExp(`^:My\\.Little\\.Server 354 ${other} 0 :${cool}$`));
  });

  it('WHOX and WHOIS of a user of another door: the account when logged in, `~u` and the nick as real name (who testWhoxAccount)', async () => {
    const acct = nick('acct');
    const ws = await TestClient.open(server.url);
    track(ws);
    await ws.hello(acct);
    expect((await ws.request('register', { password: 'whox-password' })).type).toBe('registered');
    const other = nick('whox');
    const o = track(await IrcTestClient.register(port, other));
    o.send(`WHO ${acct} %cuhnar`);
    await o.wait(new RegExp(`^:My\\.Little\\.Server 354 ${other} \\* ~u chat ${acct} ${acct} :${acct}$`));
    o.send(`WHOIS ${acct}`);
    await o.wait(new RegExp(`^:My\\.Little\\.Server 311 ${other} ${acct} ~u chat \\* :${acct}$`));
  });

  it('MONITOR: 731 then 730 when the nick connects, 731 when it quits; - stops it; masks are ignored (monitor testMonitorOneDisconnected, testUnmonitor, testMonitorForbidsMasks)', async () => {
    const foo = nick('foo');
    const f = track(await IrcTestClient.register(port, foo));
    expect(f.lines.filter((l) => / 005 /.test(l)).join(' ')).toMatch(/ MONITOR=100 /);
    const bar = nick('bar');
    f.send(`MONITOR + ${bar}`);
    await f.wait(new RegExp(`^:My\\.Little\\.Server 731 ${foo} :${bar}$`));
    f.send('MONITOR + *!username@localhost');
    const b = track(await IrcTestClient.register(port, bar));
    await f.wait(new RegExp(`^:My\\.Little\\.Server 730 ${foo} :${bar}!~u@chat$`));
    b.send('QUIT :bye');
    await f.waitCount(new RegExp(`^:My\\.Little\\.Server 731 ${foo} :${bar}$`), 2);
    f.send(`MONITOR - ${bar}`);
    // Lines from one address share a flood bucket, and lagged lines of two connections have no
    // order between them: the PONG says the MONITOR - ran before the nick comes back.
    f.send('PING monitor-minus');
    await f.wait(/ PONG .*monitor-minus/);
    track(await IrcTestClient.register(port, bar));
    // A line sent after the reconnect is answered after anything the reconnect caused.
    f.send('MONITOR L');
    await f.wait(new RegExp(` 733 ${foo} :End of MONITOR list`));
    expect(f.lines.filter((l) => / 73[0-4] /.test(l))).toEqual([
      `:My.Little.Server 731 ${foo} :${bar}`,
      `:My.Little.Server 730 ${foo} :${bar}!~u@chat`,
      `:My.Little.Server 731 ${foo} :${bar}`,
      `:My.Little.Server 733 ${foo} :End of MONITOR list`,
    ]);
  });

  it('MONITOR: + answers 730 and 731 at once; L lists, S tells the status, C clears; nick changes count, case changes do not (monitor testMonitorConnectedAndDisconnected, testMonitorList, testMonitorStatus, testMonitorClear, testNickChange)', async () => {
    const foo = nick('mfoo');
    const f = track(await IrcTestClient.register(port, foo));
    const bar = nick('mbar');
    const b = track(await IrcTestClient.register(port, bar));
    const baz = nick('mbaz');
    let got = await exchange(f, `MONITOR + ${bar},${baz}`, / 731 /, / 73\d /);
    expect(got.sort()).toEqual(
      [`:My.Little.Server 730 ${foo} :${bar}!~u@chat`, `:My.Little.Server 731 ${foo} :${baz}`].sort(),
    );
    got = await exchange(f, 'MONITOR L', / 733 /, / 73\d /);
    expect(got).toEqual([
      `:My.Little.Server 732 ${foo} :${bar},${baz}`,
      `:My.Little.Server 733 ${foo} :End of MONITOR list`,
    ]);
    f.send('MONITOR S');
    await f.waitCount(/ 730 /, 2);
    await f.waitCount(/ 731 /, 2);
    // bar renames to baz: baz is online, bar is not; a case change says nothing.
    b.send(`NICK ${baz}`);
    await f.wait(new RegExp(`^:My\\.Little\\.Server 730 ${foo} :${baz}!~u@chat$`));
    await f.waitCount(new RegExp(`^:My\\.Little\\.Server 731 ${foo} :${bar}$`), 1);
    b.send(`NICK ${baz.toUpperCase()}`);
    await b.wait(new RegExp(`NICK ${baz.toUpperCase()}$`));
    b.send(`NICK ${bar}`);
    await f.wait(new RegExp(`^:My\\.Little\\.Server 731 ${foo} :${baz.toUpperCase()}$`));
    f.send('MONITOR C');
    got = await exchange(f, 'MONITOR L', / 733 /, / 73\d /);
    expect(got).toEqual([`:My.Little.Server 733 ${foo} :End of MONITOR list`]);
  });

  it('MONITOR holds at most 100 nicks per connection: 734 with those left out', async () => {
    const foo = nick('full');
    const f = track(await IrcTestClient.register(port, foo));
    const many = Array.from({ length: 105 }, (_, i) => `mon${i}x`);
    f.send(`MONITOR + ${many.slice(0, 60).join(',')}`);
    f.send(`MONITOR + ${many.slice(60).join(',')}`);
    await f.wait(
      new RegExp(
        `^:My\\.Little\\.Server 734 ${foo} 100 ${many.slice(100).join(',')} :Monitor list is full\\.$`,
      ),
    );
    const got = await exchange(f, 'MONITOR L', / 733 /, / 732 /);
    expect(got.flatMap((l) => l.split(' :')[1]!.split(',')).sort()).toEqual(many.slice(0, 100).sort());
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
    expect(maskMatches('*ni*k', 'coolNick')).toBe(true);
    expect(maskMatches('c*l*', 'cl')).toBe(true);
    expect(maskMatches('c?', 'c')).toBe(false);
    expect(maskMatches('é?', 'Éx')).toBe(true);
    // A mask that would make a backtracking matcher run for seconds over one 32-character nick.
    expect(maskMatches(`${'*a'.repeat(16)}*b`, 'a'.repeat(32))).toBe(false);
    expect(maskMatches(`${'*a'.repeat(16)}*`, 'a'.repeat(32))).toBe(true);
  });
  it('user mode +i: MODE echoes it and 221 shows it; WHO masks skip an invisible user unless a channel is shared; 501 for other letters (umodes, who)', async () => {
    const shy = nick('shy');
    const s = track(await IrcTestClient.register(port, shy));
    const other = nick('seeker');
    const o = track(await IrcTestClient.register(port, other));
    const rows = async (mask: string): Promise<string[]> =>
      (await exchange(o, `WHO ${mask}`, new RegExp(` 315 ${other} `), / 352 /)).filter((l) =>
        l.includes(` ${shy} H`),
      );
    expect(await rows('shy*')).toHaveLength(1);
    s.send(`MODE ${shy} +i`);
    await s.wait(new RegExp(`^:${shy}!\\S+ MODE ${shy} :?\\+i$`));
    s.send(`MODE ${shy}`);
    await s.wait(new RegExp(`^:My\\.Little\\.Server 221 ${shy} :?\\+i$`));
    // Setting it again changes nothing and says nothing; an unknown letter is 501, the rest applies.
    s.send(`MODE ${shy} +iZ`);
    await s.wait(new RegExp(` 501 ${shy} :Unknown MODE flag`));
    expect(s.lines.filter((l) => l.includes(` MODE ${shy} `))).toHaveLength(1);
    expect(await rows('shy*')).toEqual([]);
    expect(await rows('*')).toEqual([]);
    // Asked by its nick, or once a channel is shared, it is listed.
    expect(await rows(shy)).toHaveLength(1);
    s.send('JOIN #hideout');
    await s.wait(/ 366 .* #hideout /);
    o.send('JOIN #hideout');
    await o.wait(/ 366 .* #hideout /);
    expect(await rows('shy*')).toHaveLength(1);
    o.send('PART #hideout');
    await o.wait(/ PART #hideout/);
    expect(await rows('shy*')).toEqual([]);
    s.send(`MODE ${shy} -i`);
    await s.wait(new RegExp(`^:${shy}!\\S+ MODE ${shy} :?-i$`));
    expect(await rows('shy*')).toHaveLength(1);
  });
});
