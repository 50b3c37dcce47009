/**
 * Issue 6, slow consumer, against the real binary: 100 clients chat in one room for 20 s (3
 * msgs/s each, ~1.5 KB messages) while one member stops reading (a raw socket that completed
 * the handshake, joined, then never reads again). It must be cut as `slow_consumer` once its
 * queue passes the cap (1 MiB), the server's RSS must stay bounded, and the others' p99 latency
 * must stay within 2x of the same room on a second server without the slow member (the rooms
 * take turns each second; the first 2 s of each, JIT warm-up, are not measured).
 *
 * SLOW_CONSUMER_SECONDS changes both runs (the issue asks for 20 s; the two interleaved rooms and set-up take ~45 s; see PAD for why much shorter runs do not work at this load).
 */
import WebSocket from 'ws';
import { afterEach, expect, it } from 'vitest';
import { Histogram } from '../../src/load/histogram.js';
import { rssKiB } from '../../src/load/proc.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { RawWs } from '../helpers/raw-ws.js';

const SECONDS = Number(process.env.SLOW_CONSUMER_SECONDS ?? 20);
const CHATTERS = 100;
const RATE = 3; // messages per second per chatter, under the default limit (burst 10, then 5/s)
// ~450 KB/s to each member: the ~5 MB the kernel buffers for a reader that stopped fill in ~11 s,
// then the 1 MiB cap in ~2 s more. Runs shorter than ~15 s need bigger messages (at 3 KB the
// load saturates a 2-core machine and the p99 comparison means little).
const PAD = 1500;
const CAP = 1024 * 1024; // the default --max-queue-bytes
const ROOM = 'busy';
const WARMUP_MS = 2000;

const now = (): number => performance.timeOrigin + performance.now();

/** A chatting member: sends stamped messages, records every message's latency, counts its bytes. */
class Chatter {
  received = 0;
  bytes = 0;
  private joined!: () => void;
  readonly ready: Promise<void>;
  onEvent: ((text: string) => void) | undefined;
  /** Messages sent before this time (warm-up) are counted but not measured. */
  measureFrom = Infinity;

  constructor(
    readonly ws: WebSocket,
    readonly nick: string,
    hist: Histogram,
  ) {
    this.ready = new Promise((resolve) => (this.joined = resolve));
    ws.on('message', (data: Buffer) => {
      this.bytes += data.length + 4; // + the frame header, near enough
      // Only the head is decoded: the stamp comes first in the text, and 30k events/s must stay cheap.
      const text = data.toString('utf8', 0, 300);
      if (text.startsWith('{"type":"message"')) {
        const at = text.indexOf('"message":"') + 11;
        const ts = Number(text.slice(at, text.indexOf('|', at)));
        if (Number.isFinite(ts)) {
          if (ts >= this.measureFrom) hist.record((now() - ts) * 1000);
          this.received++;
        }
      } else if (text.startsWith('{"type":"joined"')) this.joined();
      this.onEvent?.(text);
    });
  }

  static async open(url: string, nick: string, hist: Histogram): Promise<Chatter> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const c = new Chatter(ws, nick, hist);
    ws.send(JSON.stringify({ type: 'join', payload: { room_id: ROOM, user_name: nick }, ref: 'j' }));
    await c.ready;
    return c;
  }

  send(n: number): void {
    const text = `${now().toFixed(3)}|${this.nick} ${n} ${'x'.repeat(PAD)}`;
    this.ws.send(JSON.stringify({ type: 'message', payload: { room_id: ROOM, message: text }, ref: n }));
  }
}

interface RunResult {
  p50Ms: number;
  p99Ms: number;
  deliveries: number;
  sent: number;
  rssBaseMiB: number;
  rssMaxMiB: number;
  slow?: { cutAfterMs: number; reason: string; kernelBytes: number; queuedAtCutBytes: number };
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One server and its chatters (and, for the second, the member that stops reading). */
interface Setup {
  chat: ChatProcess;
  chatters: Chatter[];
  hist: Histogram;
  sent: number;
  rssBase: number;
  rssMax: number;
  slow?: RawWs;
  pausedAt: number;
  watcherBytesAtPause: number;
  slowBytesAtPause: number;
  cut: Promise<{ at: number; reason: string; watcherBytes: number }>;
}

async function setup(withSlow: boolean): Promise<Setup> {
  const chat: ChatProcess = await spawnChat(['--memory']);
  cleanups.push(() => chat.kill());
  const hist = new Histogram();
  const chatters: Chatter[] = [];
  const tag = withSlow ? 's' : 'b';
  for (let i = 0; i < CHATTERS; i += 20) {
    chatters.push(
      ...(await Promise.all(
        Array.from({ length: 20 }, (_, k) => Chatter.open(chat.url, `${tag}${i + k}`, hist)),
      )),
    );
  }
  cleanups.push(() => chatters.forEach((c) => c.ws.terminate()));
  const watcher = chatters[0]!;
  const cut = new Promise<{ at: number; reason: string; watcherBytes: number }>((resolve) => {
    watcher.onEvent = (text) => {
      if (text.startsWith('{"type":"user_left"') && text.includes('"user_name":"slowpoke"')) {
        resolve({
          at: now(),
          reason: /"reason":"([^"]*)"/.exec(text)?.[1] ?? '',
          watcherBytes: watcher.bytes,
        });
      }
    };
  });
  const rssBase = rssKiB(chat.child.pid!)!;
  const out: Setup = {
    chat,
    chatters,
    hist,
    sent: 0,
    rssBase,
    rssMax: rssBase,
    pausedAt: 0,
    watcherBytesAtPause: 0,
    slowBytesAtPause: 0,
    cut,
  };
  if (withSlow) {
    const slow = await RawWs.connect(chat.port);
    cleanups.push(() => slow.destroy());
    slow.text(JSON.stringify({ type: 'join', payload: { room_id: ROOM, user_name: 'slowpoke' }, ref: 'j' }));
    await new Promise<void>(
      (resolve) =>
        (slow.onFrame = () => slow.texts.some((t) => t.startsWith('{"type":"joined"')) && resolve()),
    );
    slow.onFrame = undefined;
    slow.socket.pause(); // from here on it never reads
    Object.assign(out, {
      slow,
      pausedAt: now(),
      watcherBytesAtPause: watcher.bytes,
      slowBytesAtPause: slow.bytesIn,
    });
  }
  return out;
}

/** Waits until every chatter of `s` received every message sent in its room. */
function delivered(s: Setup): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`only ${s.chatters.reduce((a, c) => a + c.received, 0)}/${s.sent * CHATTERS} deliveries`),
        ),
      20_000,
    );
    const check = (): void => {
      if (s.chatters.every((c) => c.received >= s.sent)) {
        clearTimeout(timer);
        resolve();
      } else setImmediate(check);
    };
    check();
  });
}

async function result(s: Setup): Promise<RunResult> {
  const r: RunResult = {
    p50Ms: s.hist.percentile(50) / 1000,
    p99Ms: s.hist.percentile(99) / 1000,
    deliveries: s.hist.count,
    sent: s.sent,
    rssBaseMiB: s.rssBase / 1024,
    rssMaxMiB: s.rssMax / 1024,
  };
  const slow = s.slow;
  if (!slow) return r;
  const c = await Promise.race([
    s.cut,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1)),
  ]);
  // Read what the kernel still held for it: everything the server had handed over before the cut.
  if (c) {
    slow.socket.resume();
    await slow.closed;
  }
  const kernelBytes = slow.bytesIn - s.slowBytesAtPause;
  r.slow = c
    ? {
        cutAfterMs: c.at - s.pausedAt,
        reason: c.reason,
        kernelBytes,
        // Bytes the room sent it (as the watcher counted them) that never left the server.
        queuedAtCutBytes: c.watcherBytes - s.watcherBytesAtPause - kernelBytes,
      }
    : { cutAfterMs: Infinity, reason: 'not cut', kernelBytes, queuedAtCutBytes: NaN };
  return r;
}

/**
 * One measurement: both servers, their rooms taking turns for SECONDS each. Returns the two
 * results; the servers are cleaned up before it returns, so a second attempt starts fresh.
 */
async function measure(
  attempt: number,
): Promise<{ b: RunResult; w: RunResult; sl: NonNullable<RunResult['slow']> }> {
  // Two servers, one with the slow member. Their rooms take turns, a second each, so each room
  // chats for SECONDS at the same load as alone, and whatever else the machine does (other test
  // files, GC in this process) falls on both alike.
  const base = await setup(false);
  const withSlow = await setup(true);
  const both = [base, withSlow];
  const t0 = now();
  for (const s of both) for (const c of s.chatters) c.measureFrom = t0 + 2 * WARMUP_MS;
  let turn = 0;
  const timers: NodeJS.Timeout[] = [];
  both.forEach((s, which) => {
    s.chatters.forEach((c, i) => {
      let n = 0;
      // Spread the chatters' sends over the period.
      const start = setTimeout(
        () => {
          timers.push(
            setInterval(() => {
              if (turn % 2 !== which) return;
              c.send(++n);
              s.sent++;
            }, 1000 / RATE),
          );
        },
        (i / CHATTERS) * (1000 / RATE),
      );
      timers.push(start);
    });
  });
  const switcher = setInterval(() => {
    turn++;
    for (const s of both) s.rssMax = Math.max(s.rssMax, rssKiB(s.chat.child.pid!) ?? 0);
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, 2 * SECONDS * 1000)); // the length of the load, not a wait for a result
  for (const t of timers) clearInterval(t);
  clearInterval(switcher);
  for (const s of both) s.rssMax = Math.max(s.rssMax, rssKiB(s.chat.child.pid!) ?? 0);
  await Promise.all(both.map(delivered));
  const [b, w] = [await result(base), await result(withSlow)];
  const sl = w.slow!;
  console.log(
    `slow consumer (attempt ${attempt}): ${CHATTERS} chatters x ${RATE} msgs/s x ${SECONDS} s (~${PAD} B each), room fan-out ${CHATTERS}\n` +
      `  without slow member: ${b.sent} sent, ${b.deliveries} deliveries measured, p50 ${b.p50Ms.toFixed(1)} ms, p99 ${b.p99Ms.toFixed(1)} ms, server RSS ${b.rssBaseMiB.toFixed(0)} -> max ${b.rssMaxMiB.toFixed(0)} MiB\n` +
      `  with slow member:    ${w.sent} sent, ${w.deliveries} deliveries measured, p50 ${w.p50Ms.toFixed(1)} ms, p99 ${w.p99Ms.toFixed(1)} ms, server RSS ${w.rssBaseMiB.toFixed(0)} -> max ${w.rssMaxMiB.toFixed(0)} MiB\n` +
      `  slow member: cut (${sl.reason}) ${(sl.cutAfterMs / 1000).toFixed(1)} s after it stopped reading (rooms alternate, so ~half of that is its room's chat time); ` +
      `${(sl.kernelBytes / 1024).toFixed(0)} KiB sat in kernel buffers, ~${(sl.queuedAtCutBytes / 1024).toFixed(0)} KiB queued in the server at the cut (cap ${CAP / 1024} KiB)\n` +
      `  p99 ratio ${(w.p99Ms / b.p99Ms).toFixed(2)}x`,
  );
  for (const c of cleanups.splice(0).reverse()) await c();
  return { b, w, sl };
}

it(
  `cuts a client that stops reading while ${CHATTERS} others chat for ${SECONDS} s; memory bounded, others' p99 within 2x`,
  { timeout: 2 * (2 * SECONDS + 60) * 1000 },
  async () => {
    const p99Within2x = (r: { b: RunResult; w: RunResult }): boolean =>
      r.w.p99Ms < Math.max(2 * r.b.p99Ms, r.b.p99Ms + 2);
    let r = await measure(1);
    checkBounded(r);
    if (!p99Within2x(r)) {
      // Latency tails move with whatever else the machine runs; the cut and memory bounds do not.
      // One more full measurement tells a busy moment from a slow member that hurts the others.
      console.log('slow consumer: p99 ratio over 2x on the first attempt; measuring once more');
      r = await measure(2);
      checkBounded(r);
    }
    // Others are unaffected: p99 within 2x (with 2 ms of slack for timer noise when the baseline is tiny).
    expect(r.w.p99Ms).toBeLessThan(Math.max(2 * r.b.p99Ms, r.b.p99Ms + 2));
  },
);

/** The slow member was cut at the cap and its server's memory stayed bounded. */
function checkBounded({
  b,
  w,
  sl,
}: {
  b: RunResult;
  w: RunResult;
  sl: NonNullable<RunResult['slow']>;
}): void {
  expect(sl.reason).toBe('slow_consumer');
  // The queue is cut at the cap: what the server still held is the cap plus at most a turn's events.
  expect(sl.queuedAtCutBytes).toBeLessThan(CAP + 256 * 1024);
  // Server memory: the slow member's backlog is bounded by the cap, so its server grows no more than a few MiB beyond the other.
  expect(w.rssMaxMiB - w.rssBaseMiB).toBeLessThan(b.rssMaxMiB - b.rssBaseMiB + 32);
}
