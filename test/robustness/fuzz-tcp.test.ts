/**
 * Issue 6, fuzz: at least 100,000 hostile lines over the TCP line transport, pipelined on a few
 * identified connections: plain text in every script and control byte, slash commands with bad
 * and good arguments, invalid UTF-8, telnet IAC sequences, CRs in odd places, over-long lines.
 *
 * Oracle: the transport's own pure pieces (LineReader, parseLine, the codec) predict every line
 * that must be refused without asking the hub (too long, a bad command, a request the codec
 * refuses); each of those error lines must come back. A barrier (`/help` of an unknown topic)
 * after every batch shows all lines were read. Every byte sent back must be valid UTF-8 with no raw
 * control character, no request may fail with an internal error, and a normal client still chats.
 *
 * Issue 11: runs of blank lines (a newline flood arrives on a line door as many empty lines),
 * and `/nick` or `/msg` with default-ignorable and blank code points (U+3164, U+2800, U+200B,
 * U+FE0F...). Those commands carry the error line they must produce, written by hand; the
 * pure oracle must predict exactly that line, and the server must send it.
 */
import fc from 'fast-check';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeClientValue } from '../../src/protocol/codec.js';
import { COMMANDS, parseLine } from '../../src/protocol/commands.js';
import { sanitizeText } from '../../src/protocol/sanitize.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { LineReader } from '../../src/server/transports/tcp-lines.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { blankNick, nastyString } from '../helpers/fuzz-frames.js';

const LINES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const CONNS = 4;
const BATCH = 1_000; // lines per connection per run
const RUNS = Math.ceil(LINES / (BATCH * CONNS));
const MAX_LINE = 16 * 1024;

/** Command words: every name and alias except the ones that end the connection, plus near misses. */
const QUIT = new Set(['quit', 'exit', 'q']);
const words = Object.entries(COMMANDS)
  .flatMap(([name, spec]) => [name, ...(spec.aliases ?? [])])
  .filter((w) => !QUIT.has(w));
const commandWord = fc.oneof(
  { arbitrary: fc.constantFrom(...words), weight: 8 },
  {
    arbitrary: fc.constantFrom('JOIN', 'Msg', 'joinn', '', '/', '#', 'register ', 'xyzzy', '\x1b[2J'),
    weight: 2,
  },
);
const roomArg = fc.oneof(
  fc.constantFrom('lobby', 'r1', '#r2', 'room_1', 'a.b-c', '#'),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,70}$/),
  nastyString,
  fc.string({ maxLength: 10 }),
);
const arg = fc.oneof(
  roomArg,
  fc.constantFrom('alice', 'bob', 'Алиса', 'еvan', 'x'.repeat(40)),
  // Moderation arguments: modes, ban masks (good and bad), a topic to clear.
  fc.constantFrom('+t', '-i', '+tim', '+x', '*@127.0.0.*', '10.0.0.0/8', '1.2.3.4/99', 'a@b', '-'),
  nastyString,
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const sep = fc.constantFrom(' ', '  ', '\t', ' \x0b ', '\u00a0', '\u3000');
const noLf = (s: string): string => s.replace(/\n/g, ' ');

const commandLine = fc
  .tuple(commandWord, fc.array(arg, { maxLength: 4 }), sep)
  // register with a real password costs an scrypt (~50-100 ms); keep it to short, refused passwords.
  .map(([w, args, s]) =>
    w.trim().toLowerCase() === 'register'
      ? `/register ${args.join(' ').slice(0, 7)}`
      : `/${w}${args.length > 0 ? s : ''}${args.join(s)}`,
  );
const textLine = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  nastyString,
  fc.constantFrom('', ' ', '//not a command', '/', '\r', 'a\rb', '\x00'),
);
const bytesLine = fc
  .uint8Array({ maxLength: 120 })
  .map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x20 : b === 0xff ? 0xfe : b))));
const telnetLine = fc
  .tuple(
    fc.string({ maxLength: 10 }),
    fc.constantFrom(
      [0xff, 0xfb, 0x01],
      [0xff, 0xfd, 0x03],
      [0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0],
      [0xff, 0xf4],
      [0xff, 0xff],
    ),
    fc.string({ maxLength: 10 }),
  )
  .map(([a, iac, b]) => Buffer.concat([Buffer.from(noLf(a)), Buffer.from(iac), Buffer.from(noLf(b))]));
/** A newline flood as a line client sends one: up to 400 empty or blank lines in one write. */
const blankRun = fc
  .tuple(fc.constantFrom('\n', ' \n', '\r\n', '\t\r\n', '\u3000\n'), fc.integer({ min: 1, max: 400 }))
  .map(([line, n]) => Buffer.from(line.repeat(n).slice(0, -1))); // its last line end is added below
const NICK_REFUSED = 'a nick cannot contain spaces, control, format or invisible characters';
/** A command with a blank-holding nick, and the one error line it must bring back. */
const blankNickLine = fc
  .tuple(blankNick, fc.boolean())
  .map(([nick, dm]) =>
    dm
      ? { text: `/msg ${nick} hi`, want: `*** error: to: ${NICK_REFUSED}` }
      : { text: `/nick ${nick}`, want: `*** error: user_name: ${NICK_REFUSED}` },
  );
const longLine = fc
  .constantFrom(MAX_LINE, MAX_LINE + 1, MAX_LINE + 2, 20_000, 70_000)
  .map((n) => Buffer.alloc(n, 0x61));

function isQuit(body: Buffer): boolean {
  return new LineReader(MAX_LINE).push(Buffer.concat([body, Buffer.from('\n')])).some((e) => {
    if (e.kind !== 'line') return false;
    const parsed = parseLine(e.text);
    return parsed.kind === 'command' && parsed.command.name === 'quit';
  });
}

/** One fuzz line, as the bytes sent (its line end included), with the error line it must bring back when its generator knows it. */
const fuzzLine: fc.Arbitrary<Buffer & { want: string | undefined }> = fc
  .tuple(
    fc.oneof(
      { arbitrary: textLine.map((t) => Buffer.from(noLf(t))), weight: 10 },
      { arbitrary: commandLine.map((t) => Buffer.from(noLf(t))), weight: 10 },
      { arbitrary: bytesLine, weight: 3 },
      { arbitrary: telnetLine, weight: 1 },
      { arbitrary: longLine, weight: 1 },
      { arbitrary: blankRun, weight: 1 },
      {
        arbitrary: blankNickLine.map(({ text, want }) => Object.assign(Buffer.from(text), { want })),
        weight: 1,
      },
    ),
    fc.constantFrom('\n', '\r\n'),
  )
  // /quit (in any spelling, e.g. a random "/Q") ends the connection; it is tested elsewhere.
  .filter(([body]) => !isQuit(body))
  .map(([body, end]) =>
    Object.assign(Buffer.concat([body, Buffer.from(end)]), {
      want: 'want' in body ? (body.want as string) : undefined,
      [fc.toStringMethod]: () =>
        `line(${body.length} bytes: ${JSON.stringify(body.subarray(0, 40).toString('latin1'))})`,
    }),
  );

/** The error lines a line must produce without the hub's help, or none. */
function predictedErrors(text: string): string[] {
  const notice = (m: string): string => `*** ${sanitizeText(`error: ${m}`)}`;
  const parsed = parseLine(text);
  if (parsed.kind === 'error') return [notice(parsed.message)];
  if (parsed.kind !== 'command') return [];
  const c = parsed.command;
  const request =
    c.name === 'join'
      ? { type: 'join', payload: { room_id: c.room } }
      : c.name === 'msg'
        ? { type: 'dm', payload: { to: c.to, message: c.text } }
        : c.name === 'nick'
          ? { type: 'nick', payload: { user_name: c.nick } }
          : c.name === 'register'
            ? { type: 'register', payload: { password: c.password } }
            : c.name === 'whois'
              ? { type: 'whois', payload: { user_name: c.nick } }
              : c.name === 'away'
                ? { type: 'away', payload: c.message !== undefined ? { message: c.message } : {} }
                : undefined; // `/me` is refused first when the fuzzer left every room: not predicted
  if (!request) return [];
  const decoded = decodeClientValue(request);
  return decoded.ok ? [] : [notice(decoded.error.message)];
}

/** An identified TCP client that keeps every byte it was sent. */
class TcpFuzzer {
  private chunks: Buffer[] = [];
  private size = 0;
  closed = false;
  /** The same line splitter the server runs, fed the same bytes: predicts what the server reads. */
  readonly oracle = new LineReader(MAX_LINE);
  private waiter: { pred: () => boolean; resolve: () => void } | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.size += c.length;
      if (this.waiter?.pred()) this.waiter.resolve();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.resolve();
    });
  }

  static async open(port: number, nick: string): Promise<TcpFuzzer> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const f = new TcpFuzzer(socket);
    await f.until('nick: ', 10_000);
    f.send(Buffer.from(`${nick}\n`));
    await f.until('you joined #lobby', 10_000);
    return f;
  }

  get bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Sends bytes and tells the oracle; returns the error lines they must produce. */
  send(bytes: Buffer): string[] {
    this.socket.write(bytes);
    const expected: string[] = [];
    for (const event of this.oracle.push(bytes)) {
      if (event.kind === 'too_long')
        expected.push(`*** error: line too long (over ${event.limit} bytes); it was discarded`);
      else expected.push(...predictedErrors(event.text));
    }
    return expected;
  }

  /** Resolves once `marker` has arrived (searching only what came since `from`). */
  until(marker: string, timeoutMs: number, from = 0): Promise<void> {
    const pred = (): boolean => this.bytes.indexOf(marker, from) >= 0;
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `tcp fuzz: no ${JSON.stringify(marker)} within ${timeoutMs} ms; tail ${JSON.stringify(this.bytes.subarray(-200).toString('utf8'))}`,
            ),
          ),
        timeoutMs,
      );
      this.waiter = {
        pred: () => pred() || this.closed,
        resolve: () => {
          clearTimeout(timer);
          this.waiter = undefined;
          if (this.closed && !pred())
            reject(
              new Error(
                `tcp fuzz: connection closed before ${JSON.stringify(marker)}; tail ${JSON.stringify(this.bytes.subarray(-300).toString('utf8'))}`,
              ),
            );
          else resolve();
        },
      };
    });
  }
}

let server: RunningServer;
const logged: string[] = [];

beforeAll(async () => {
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  // No message, read or presence rate limits: the fuzzers pipeline far past a person's burst, and
  // the oracle predicts parse refusals, not rate ones (test/server/limits covers those).
  server = await startTestServer({
    tcpPort: 0,
    logger,
    rateLimit: false,
    readLimit: false,
    readAddressLimit: false,
    presenceLimit: false,
    presenceAddressLimit: false,
  });
});

afterAll(async () => {
  await server?.close();
});

it(
  'answers 100,000 hostile TCP lines: every predicted refusal arrives, output stays clean, the server keeps serving',
  { timeout: 300_000 },
  async () => {
    const started = performance.now();
    const fuzzers = await Promise.all(
      Array.from({ length: CONNS }, (_, i) => TcpFuzzer.open(server.tcpPort!, `fz${i}`)),
    );
    let sent = 0;
    let expectedErrors = 0;
    let batch = 0;
    const missing: string[] = [];
    const mislabelled: string[] = [];
    let labelled = 0;

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fuzzLine, { minLength: BATCH, maxLength: BATCH }), {
          minLength: CONNS,
          maxLength: CONNS,
        }),
        async (perConn) => {
          const b = batch++;
          await Promise.all(
            fuzzers.map(async (f, i) => {
              const from = f.bytes.length;
              // Lines whose generator wrote their error by hand: the oracle must predict exactly that.
              for (const line of perConn[i]!) {
                if (line.want === undefined) continue;
                labelled++;
                const predicted = predictedErrors(line.toString('utf8').replace(/\r?\n$/, ''));
                if (predicted.length !== 1 || predicted[0] !== line.want)
                  mislabelled.push(
                    `${JSON.stringify(line.toString('utf8'))}: oracle ${JSON.stringify(predicted)}, want ${line.want}`,
                  );
              }
              const expected = f.send(Buffer.concat(perConn[i]!));
              sent += BATCH;
              expectedErrors += expected.length;
              // A barrier: lines are handled in order (a gated request holds back the ones after it),
              // and /help answers at once, so its answer means every line before it was handled.
              const barrier = `zb${i}_${b}`;
              f.send(Buffer.from(`/help ${barrier}\n`));
              await f.until(`no command /${barrier}`, 20_000, from);
              const out = f.bytes.subarray(from).toString('utf8').split('\r\n');
              const counts = new Map<string, number>();
              for (const line of out) counts.set(line, (counts.get(line) ?? 0) + 1);
              for (const line of expected) {
                const n = counts.get(line) ?? 0;
                if (n === 0) missing.push(line);
                else counts.set(line, n - 1);
              }
            }),
          );
          return missing.length === 0 && mislabelled.length === 0;
        },
      ),
      {
        numRuns: RUNS,
        endOnFailure: process.env.FUZZ_SHRINK === undefined,
        ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
      },
    );
    const seconds = (performance.now() - started) / 1000;

    // Everything the server wrote: valid UTF-8, CRLF line ends, no raw control character.
    let bytesOut = 0;
    let badUtf8 = 0;
    let controls = 0;
    let internal = 0;
    for (const f of fuzzers) {
      const bytes = f.bytes;
      bytesOut += bytes.length;
      let text = '';
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        badUtf8++;
        text = bytes.toString('utf8');
      }
      controls += (
        text
          .replace(/\r\n/g, '\n')
          .match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g) ??
        []
      ).length;
      internal += (text.match(/failed to handle the request/g) ?? []).length;
    }
    const alive = fuzzers.filter((f) => !f.closed).length;
    const { messagesIn } = server.hub.counters;
    console.log(
      `fuzz tcp-lines: ${sent} lines in ${seconds.toFixed(1)} s over ${CONNS} connections, 0 crashes, ${expectedErrors} predicted refusals all answered (${missing.length} missing; ${labelled} blank-nick commands with a hand-written error, ${mislabelled.length} mispredicted), ` +
        `${messagesIn} chat messages and DMs accepted, ${(bytesOut / 1024).toFixed(0)} KiB back: ${badUtf8} invalid UTF-8, ${controls} raw control characters, ${internal} internal errors; ${alive}/${CONNS} connections still open`,
    );
    expect(missing.slice(0, 5)).toEqual([]);
    expect(mislabelled.slice(0, 5)).toEqual([]);
    expect(labelled).toBeGreaterThan(0);
    expect(sent).toBeGreaterThanOrEqual(LINES);
    expect(badUtf8).toBe(0);
    expect(controls).toBe(0);
    expect(internal).toBe(0);
    expect(alive).toBe(CONNS);
    expect(logged.slice(0, 5)).toEqual([]);

    // A plain TCP client and two WebSocket clients still chat.
    const plain = await TcpFuzzer.open(server.tcpPort!, 'plain_after');
    plain.send(Buffer.from('hello after the fuzz\n'));
    await plain.until('<plain_after> hello after the fuzz', 10_000);
    await expectStillChats(server.url);
    for (const f of [...fuzzers, plain]) f.socket.destroy();
  },
);
