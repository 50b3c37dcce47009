/**
 * Issue 6, control bytes: every C0 and C1 control, DEL, CSI/OSC/DCS sequences and bidi
 * characters, placed by a WebSocket client inside nicks, room names, messages, DMs and
 * idempotency keys. Another WebSocket client and a TCP line client watch everything the server
 * sends them (live and as history): 0 raw control characters may reach them (a message body may
 * keep `\n`; TCP lines end in `\r\n`). A TCP client typing the same sees none echoed back either.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { TestClient } from '../helpers/ws-client.js';

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
const C1 = Array.from({ length: 33 }, (_, i) => String.fromCharCode(0x7f + i)); // DEL and 0x80-0x9f
const BIDI = [
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u2028',
  '\u2029',
];
const SEQUENCES = [
  '\x1b[2J', // CSI erase screen
  '\x1b[31;1m', // CSI colour
  '\x1b[?1049h', // CSI private mode (alternate screen)
  '\x1b[6n', // CSI device status report (makes the terminal answer)
  '\x9b2J', // 8-bit CSI
  '\x1b]0;pwned\x07', // OSC title, BEL-terminated
  '\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\', // OSC 8 hyperlink, ST-terminated
  '\x1b]52;c;cHduZWQ=\x07', // OSC 52 clipboard write
  '\x9d0;pwned\x9c', // 8-bit OSC
  '\x1bP+q544e\x1b\\', // DCS
  '\x1b_apc\x1b\\', // APC
  '\x1bc', // RIS full reset
  '\x1b', // a lone ESC
  '\x1b[', // a truncated CSI
];
const NASTY = [...C0, ...C1, ...BIDI, ...SEQUENCES];

/** A character a terminal would act on: C0 (except \n where allowed), DEL, C1, bidi controls. */
function badChars(text: string, allowNewline: boolean): string[] {
  const found: string[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a && allowNewline) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || BIDI.includes(ch))
      found.push(`U+${c.toString(16).padStart(4, '0')}`);
  }
  return found;
}

/** Every string in an event, with the key it sits under. */
function strings(value: unknown, key = ''): [string, string][] {
  if (typeof value === 'string') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((v) => strings(v, key));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  return [];
}

/** A TCP line client that keeps every byte it was sent. */
class TcpWatcher {
  private chunks: Buffer[] = [];
  private waiters: { pred: (text: string) => boolean; resolve: () => void }[] = [];
  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.chunks.push(c);
      const text = this.text;
      this.waiters = this.waiters.filter((w) => (w.pred(text) ? (w.resolve(), false) : true));
    });
  }
  static open(port: number): Promise<TcpWatcher> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new TcpWatcher(socket)));
      socket.once('error', reject);
    });
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
  line(text: string): void {
    this.socket.write(`${text}\n`);
  }
  until(pred: (text: string) => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred(this.text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`tcp: timed out; tail: ${JSON.stringify(this.text.slice(-300))}`)),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** Raw control bytes in TCP output: C0 except CR LF, DEL, C1 (as UTF-8 code points), bidi. */
function tcpBad(text: string): string[] {
  return badChars(text.replace(/\r\n/g, '\n'), true);
}

let server: RunningServer;
const open: { close(): void }[] = [];

beforeAll(async () => {
  // No rate limits: mallory creates a room per nasty string, as fast as she can.
  server = await startTestServer({
    tcpPort: 0,
    rateLimit: false,
    roomCreateLimit: false,
  });
});

afterAll(async () => {
  for (const c of open) c.close();
  await server?.close();
});

it(
  'lets 0 raw control characters from a WebSocket sender reach WebSocket or TCP readers',
  { timeout: 60_000 },
  async () => {
    const wsWatcher = await TestClient.open(server.url);
    const mallory = await TestClient.open(server.url);
    open.push(wsWatcher, mallory);
    await wsWatcher.hello('watcher');
    await mallory.hello('mallory');
    await wsWatcher.request('join', { room_id: 'ctl' });
    await mallory.request('join', { room_id: 'ctl' });
    const tcp = await TcpWatcher.open(server.tcpPort!);
    open.push({ close: () => tcp.socket.destroy() });
    await tcp.until((t) => t.includes('nick: '));
    tcp.line('tcpwatch');
    await tcp.until((t) => t.includes('you joined #lobby'));
    tcp.line('/join ctl');
    await tcp.until((t) => t.includes('you joined #ctl'));

    const outcome = { sent: 0, accepted: 0, refused: 0 };
    const tally = (reply: ServerMessage): void => {
      outcome.sent++;
      if (reply.type === 'error') outcome.refused++;
      else outcome.accepted++;
    };

    for (const [i, s] of NASTY.entries()) {
      // Nicks: as hello on a fresh connection, as join's user_name, and as a rename.
      const fresh = await TestClient.open(server.url);
      tally(await fresh.request('hello', { user_name: `ev${s}il${i}` }));
      tally(await fresh.request('join', { room_id: 'ctl', user_name: `${s}n${i}` }));
      fresh.close();
      tally(await mallory.request('nick', { user_name: `mal${s}${i}` }));
      // Room names: a new room everybody then lists and joins.
      tally(await mallory.request('create_room', { room_id: `ctl${i}`, room_name: `room${s}name` }));
      // Messages, with and without a surrounding text; idempotency keys; DMs to both readers.
      tally(await mallory.request('message', { room_id: 'ctl', message: `a${s}b ${i}` }));
      tally(await mallory.request('message', { room_id: 'ctl', message: `${s}` }));
      tally(
        await mallory.request('message', { room_id: 'ctl', message: `key ${i}`, client_msg_id: `k${s}${i}` }),
      );
      tally(await mallory.request('dm', { to: 'watcher', message: `dm${s}${i}` }));
      tally(await mallory.request('dm', { to: 'tcpwatch', message: `dm${s}${i}` }));
    }
    // Unknown types echo their name in the error; a reader never sees it, but the sender's own must be clean too.
    tally(await mallory.request('\x1b]0;pwned\x07', null));

    // Everything was sent and acknowledged; a last marker shows both readers got everything before it.
    await mallory.request('message', { room_id: 'ctl', message: 'END' });
    await wsWatcher.next((m) => m.type === 'message' && m.payload.message === 'END');
    await tcp.until((t) => t.includes('<mallory> END'));
    // Listings and history replay the stored names and texts.
    await wsWatcher.request('rooms', null);
    await wsWatcher.request('history', { room_id: 'ctl', limit: 200 });
    for (const i of [0, 27, 60, NASTY.length - 1]) await wsWatcher.request('join', { room_id: `ctl${i}` });
    tcp.line('/rooms');
    await tcp.until((t) => t.includes('room(s):'));
    const late = await TcpWatcher.open(server.tcpPort!);
    open.push({ close: () => late.socket.destroy() });
    late.line('latecomer');
    late.line('/join ctl');
    await late.until((t) => t.includes('END'));

    const wsBad: string[] = [];
    for (const event of [...wsWatcher.received, ...mallory.received]) {
      for (const [key, value] of strings(event)) {
        const bad = badChars(value, key === 'message' && event.type !== 'error');
        if (bad.length > 0)
          wsBad.push(`${event.type}.${key}: ${bad.join(' ')} in ${JSON.stringify(value).slice(0, 80)}`);
      }
    }
    const tcpBadChars = [...tcpBad(tcp.text), ...tcpBad(late.text)];
    const escBytes = [...tcp.bytes, ...late.bytes].filter((b) => b === 0x1b).length;
    console.log(
      `control bytes: ${NASTY.length} nasty strings in nicks, room names, messages, keys and DMs: ${outcome.sent} requests, ` +
        `${outcome.refused} refused, ${outcome.accepted} accepted (cleaned); raw control characters reaching readers: ` +
        `WebSocket ${wsBad.length} (in ${wsWatcher.received.length + mallory.received.length} events), TCP ${tcpBadChars.length} (in ${tcp.bytes.length + late.bytes.length} bytes, ${escBytes} ESC)`,
    );
    expect(wsBad.slice(0, 10)).toEqual([]);
    expect(tcpBadChars.slice(0, 10)).toEqual([]);
    expect(escBytes).toBe(0);
  },
);

it('echoes 0 raw control characters back to a TCP client that types them', { timeout: 30_000 }, async () => {
  const tcp = await TcpWatcher.open(server.tcpPort!);
  open.push({ close: () => tcp.socket.destroy() });
  await tcp.until((t) => t.includes('nick: '));
  // Nick answers first (refused), then a real nick, then lines and commands carrying them.
  for (const s of NASTY.filter((x) => x !== '\n' && x !== '\r')) tcp.line(`bad${s}nick`);
  tcp.line('typist');
  await tcp.until((t) => t.includes('you joined #lobby'));
  for (const s of NASTY.filter((x) => x !== '\n' && x !== '\r')) {
    tcp.line(`hello${s}there`);
    tcp.line(`/${s}cmd`);
    tcp.line(`/join r${s}`);
    tcp.line(`/msg typist x${s}y`);
    tcp.line(`/nick t${s}`);
  }
  tcp.line('last line');
  await tcp.until((t) => t.includes('> last line'));
  const bad = tcpBad(tcp.text);
  console.log(
    `control bytes: a TCP client typed ${NASTY.length - 2} nasty strings in ${(NASTY.length - 2) * 6} lines: ${bad.length} raw control characters echoed back (${tcp.bytes.length} bytes read)`,
  );
  expect(bad.slice(0, 10)).toEqual([]);
});
