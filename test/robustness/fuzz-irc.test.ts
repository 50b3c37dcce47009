/**
 * Issue 17, fuzz: hostile lines over the IRC door, pipelined on a few registered connections:
 * every verb the door knows (and near misses) with parameters in every script and control byte,
 * tags, CTCP, bare CRs, NULs, invalid UTF-8, over-long lines. Flood control is opened wide so the
 * lines reach the command handlers.
 *
 * Oracle: a `PING :barrier-N` after every batch must be answered (every line was read, none hung
 * the session), every byte sent back is valid UTF-8 and holds no control character but CTCP's
 * \x01 and the CR LF ending, no line is over 512 bytes without its tags, and a normal client
 * still chats afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { COMMANDS } from '../../src/server/transports/irc/commands.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { nastyString } from '../helpers/fuzz-frames.js';
import { IrcTestClient } from '../helpers/irc-client.js';

const LINES = Number(process.env.FUZZ_FRAMES ?? 100_000) / 5;
const CONNS = 4;
const BATCH = 500;
const RUNS = Math.max(1, Math.ceil(LINES / (BATCH * CONNS)));

const verbs = Object.keys(COMMANDS).filter((v) => v !== 'QUIT');
const verb = fc.oneof(
  { arbitrary: fc.constantFrom(...verbs), weight: 8 },
  { arbitrary: fc.constantFrom('privmsg', 'JOINN', '', '001', 'QUIT2', '\x1b[2J', ':'), weight: 2 },
);
const param = fc.oneof(
  fc.constantFrom(
    '#lobby',
    '#f1',
    '#f2',
    '#',
    '#bad!',
    '*',
    '0',
    'LATEST',
    'BEFORE',
    'msgid=x',
    'timestamp=2020-01-01T00:00:00Z',
    'LS',
    'REQ',
    '302',
    'PLAIN',
    '+',
  ),
  nastyString,
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('\x01ACTION waves\x01', '\x01VERSION\x01', '\x01PING 1\x01', 'x'.repeat(600)),
);
const line = fc
  .tuple(
    fc.option(fc.dictionary(fc.stringMatching(/^\+?[a-z]{1,6}$/), nastyString, { maxKeys: 3 })),
    verb,
    fc.array(param, { maxLength: 5 }),
    fc.option(param),
  )
  .map(([tags, v, params, trailing]) => {
    const t = tags
      ? `@${Object.entries(tags)
          .map(([k, x]) => `${k}=${x.replace(/[\s;]/g, '')}`)
          .join(';')} `
      : '';
    const ps = params.map((p) => p.replace(/[\s]/g, '') || 'x').join(' ');
    return `${t}${v} ${ps}${trailing !== null ? ` :${trailing}` : ''}`.replace(/\n/g, ' ');
  });

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({
    ircPort: 0,
    rateLimit: false,
    serverName: 'fuzz.test',
    ircFlood: { burst: 1e9, perSecond: 1e9, addressBurst: 1e9, addressPerSecond: 1e9, maxLagged: 1e9 },
    maxRooms: 100_000,
    roomCreateLimit: false,
    roomCreateAddressLimit: false,
    readLimit: false,
    readAddressLimit: false,
    presenceLimit: false,
    presenceAddressLimit: false,
  });
});
afterAll(async () => {
  await server.close();
});

it(`survives ${RUNS * BATCH * CONNS} hostile IRC lines`, async () => {
  const conns: IrcTestClient[] = [];
  for (let i = 0; i < CONNS; i++) {
    const c = await IrcTestClient.register(server.ircPort!, `fz${i}`, {
      caps: ['message-tags', 'server-time', 'echo-message', 'batch', 'labeled-response', 'draft/chathistory'],
    });
    c.send('JOIN #lobby,#f1');
    conns.push(c);
  }
  const batches = fc.sample(fc.array(line, { minLength: BATCH, maxLength: BATCH }), RUNS * CONNS);
  for (let run = 0; run < RUNS; run++) {
    await Promise.all(
      conns.map(async (c, i) => {
        const lines = batches[run * CONNS + i]!;
        const bytes = Buffer.concat([
          ...lines.map((l) => Buffer.from(`${l}\r\n`, 'utf8')),
          // Invalid UTF-8, a bare CR mid-line, a NUL: the reader must not choke on them.
          Buffer.from([
            0xc3, 0x28, 0x20, 0xff, 0xfe, 0x0d, 0x50, 0x49, 0x4e, 0x47, 0x20, 0x78, 0x00, 0x0d, 0x0a,
          ]),
          Buffer.from(`PING :barrier-${run}\r\n`),
        ]);
        c.tcp.write(bytes);
        await c.wait(new RegExp(`PONG fuzz.test :barrier-${run}$`), 60_000);
      }),
    );
  }
  for (const c of conns) {
    const raw = c.tcp.raw;
    expect(new TextDecoder('utf-8', { fatal: true }).decode(raw).length).toBeGreaterThan(0);
    for (const l of c.lines) {
      expect(l).not.toMatch(/[\x00-\x00\x02-\x1f\x7f\x9b\x9d]/);
      const body = l.startsWith('@') ? l.slice(l.indexOf(' ') + 1) : l;
      expect(Buffer.byteLength(body) + 2).toBeLessThanOrEqual(512);
    }
    expect(c.lines.some((l) => /internal_error|INTERNAL_ERROR/.test(l))).toBe(false);
    c.close();
  }
  await expectStillChats(server.url);
}, 600_000);
