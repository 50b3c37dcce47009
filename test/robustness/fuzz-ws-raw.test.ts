/**
 * Issue 6, fuzz: at least 100,000 raw WebSocket frames against the real `chat serve` binary:
 * binary frames of random bytes, text frames of random (often invalid) UTF-8, fragmented
 * messages, pings, and wire-level protocol violations (reserved opcodes, RSV bits, unmasked
 * frames, oversized control frames, bad close codes, oversize lengths). Every frame is answered
 * by an error, a pong or a clean close with the code RFC 6455 calls for; the process stays up,
 * /health answers, and a normal client still chats.
 */
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeClientFrame } from '../../src/protocol/codec.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { FuzzConn, FuzzStats } from '../helpers/fuzz-conn.js';
import { refKey } from '../helpers/ledger.js';
import { encodeFrame } from '../helpers/raw-ws.js';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const BATCH = 1_010;
const RUNS = Math.ceil(FRAMES / BATCH);
const CONNS = 4;
const MAX_PAYLOAD = 64 * 1024;

/** A raw frame (or a few) and how the server must answer. */
type RawDraft =
  | { kind: 'data'; opcode: 1 | 2; payload: Buffer; cuts: number[]; randomMask: boolean }
  | { kind: 'ping'; payload: Buffer }
  | { kind: 'violation'; name: string; frames: readonly Buffer[]; code: number };

const bytes = (max: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const utf8 = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8'));
/** Almost-UTF-8: valid text with one bad sequence spliced in (overlong, surrogate, truncated, stray continuation). */
const almostUtf8 = fc
  .tuple(
    utf8,
    fc.constantFrom(
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xff],
    ),
    fc.nat(),
  )
  .map(([ok, bad, at]) => {
    const i = ok.length === 0 ? 0 : at % ok.length;
    return Buffer.concat([ok.subarray(0, i), Buffer.from(bad), ok.subarray(i)]);
  });

const dataDraft: fc.Arbitrary<RawDraft> = fc
  .tuple(
    fc.constantFrom<1 | 2>(1, 2, 2, 2),
    fc.oneof(
      { arbitrary: bytes(512), weight: 6 },
      { arbitrary: utf8, weight: 6 },
      { arbitrary: almostUtf8, weight: 1 },
      {
        arbitrary: fc.constantFrom(70_000, MAX_PAYLOAD, MAX_PAYLOAD + 1).map((n) => Buffer.alloc(n, 0x7b)),
        weight: 1,
      },
    ),
    fc.array(fc.nat(), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([opcode, payload, cutsRaw, randomMask]) => ({
    kind: 'data' as const,
    opcode,
    payload,
    cuts: cutsRaw.map((c) => (payload.length === 0 ? 0 : c % (payload.length + 1))).sort((a, b) => a - b),
    randomMask,
  }));

const closeBody = (code: number, reason: Buffer = Buffer.alloc(0)): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, reason]);
};

/** Wire-level violations, each with the close code ws answers with. */
const violation: fc.Arbitrary<RawDraft> = fc
  .oneof(
    fc.tuple(fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), bytes(20)).map(([opcode, payload]) => ({
      name: `reserved opcode ${opcode}`,
      frames: [encodeFrame({ opcode, payload })],
      code: 1002,
    })),
    fc.tuple(fc.integer({ min: 1, max: 7 }), utf8).map(([rsv, payload]) => ({
      name: `rsv ${rsv}`,
      frames: [encodeFrame({ opcode: 1, payload, rsv })],
      code: 1002,
    })),
    utf8.map((payload) => ({
      name: 'unmasked frame',
      frames: [encodeFrame({ opcode: 1, payload, mask: false })],
      code: 1002,
    })),
    fc.integer({ min: 126, max: 1000 }).map((n) => ({
      name: 'control frame over 125 bytes',
      frames: [encodeFrame({ opcode: 9, payload: Buffer.alloc(n) })],
      code: 1002,
    })),
    bytes(10).map((payload) => ({
      name: 'fragmented ping',
      frames: [encodeFrame({ opcode: 9, payload, fin: false })],
      code: 1002,
    })),
    utf8.map((payload) => ({
      name: 'continuation without a start',
      frames: [encodeFrame({ opcode: 0, payload })],
      code: 1002,
    })),
    utf8.map((payload) => ({
      name: 'new message inside a fragmented one',
      frames: [encodeFrame({ opcode: 1, payload, fin: false }), encodeFrame({ opcode: 2, payload })],
      code: 1002,
    })),
    fc.constant({
      name: 'close with a 1-byte body',
      frames: [encodeFrame({ opcode: 8, payload: Buffer.from([3]) })],
      code: 1002,
    }),
    fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535).map((c) => ({
      name: `close code ${c}`,
      frames: [encodeFrame({ opcode: 8, payload: closeBody(c) })],
      code: 1002,
    })),
    fc.constantFrom(1000, 1001, 3000, 4999).map((c) => ({
      name: `close ${c} with invalid UTF-8 reason`,
      frames: [encodeFrame({ opcode: 8, payload: closeBody(c, Buffer.from([0xc0, 0x80])) })],
      code: 1007,
    })),
    fc.constantFrom(1000, 1001, 1003, 3000, 4000, 4999).map((c) => ({
      name: `client close ${c}`,
      frames: [encodeFrame({ opcode: 8, payload: closeBody(c, Buffer.from('bye')) })],
      code: c,
    })),
    fc.constant({
      name: 'length over 2^53',
      frames: [Buffer.from([0x82, 0xff, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
      code: 1009,
    }),
    fc.constant({
      name: 'length over maxPayload, no body',
      frames: [Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 0, 0, 0, 0])],
      code: 1009,
    }),
  )
  .map((v) => ({ kind: 'violation' as const, ...v }));

/** Short counterexamples: a draft prints as its kind and sizes, not its bytes. */
function labelled<T extends RawDraft>(d: T): T {
  const label =
    d.kind === 'violation'
      ? d.name
      : d.kind === 'ping'
        ? `ping(${d.payload.length})`
        : `data(op ${d.opcode}, ${d.payload.length} bytes, cuts ${d.cuts.join('/')}: ${d.payload.subarray(0, 24).toString('hex')})`;
  return Object.assign(d, { [fc.toStringMethod]: () => label });
}

const rawDraft: fc.Arbitrary<RawDraft> = fc
  .oneof(
    { arbitrary: dataDraft, weight: 30 },
    { arbitrary: bytes(125).map((payload): RawDraft => ({ kind: 'ping', payload })), weight: 3 },
    { arbitrary: violation, weight: 1 },
  )
  .map(labelled);

/** The frames a data draft is sent as: one, or fragments at the cut points (empty ones included). */
function dataFrames(d: Extract<RawDraft, { kind: 'data' }>): Buffer[] {
  if (d.cuts.length === 0)
    return [encodeFrame({ opcode: d.opcode, payload: d.payload, randomMask: d.randomMask })];
  const bounds = [0, ...d.cuts, d.payload.length];
  const frames: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    frames.push(
      encodeFrame({
        opcode: i === 0 ? d.opcode : 0,
        payload: d.payload.subarray(bounds[i], bounds[i + 1]),
        fin: i + 2 === bounds.length,
        randomMask: d.randomMask,
      }),
    );
  }
  return frames;
}

let chat: ChatProcess;
let rssBeforeKb = 0;

/** The server process's resident set, from /proc. */
function rssKbOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

beforeAll(async () => {
  chat = await spawnChat(['--memory']);
  await expectStillChats(chat.url);
  rssBeforeKb = rssKbOf(chat.child.pid!);
});

afterAll(async () => {
  await chat?.kill();
});

it(
  'answers 100,000 raw frames with an error, a pong or the right close code, and the binary stays up',
  { timeout: 240_000 },
  async () => {
    const stats = new FuzzStats();
    const started = performance.now();
    const violations = new Map<string, number>();
    let fragmented = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(rawDraft, { minLength: BATCH, maxLength: BATCH }), async (drafts) => {
        const conns = await Promise.all(Array.from({ length: CONNS }, () => FuzzConn.open(chat.port, stats)));
        const closers: { frames: readonly Buffer[]; code: number }[] = [];
        const outgoing: Buffer[][] = conns.map(() => []);
        drafts.forEach((draft, i) => {
          const conn = conns[i % CONNS]!;
          const out = outgoing[i % CONNS]!;
          stats.sent++;
          if (draft.kind === 'ping') {
            conn.pongsExpected++;
            out.push(encodeFrame({ opcode: 9, payload: draft.payload }));
            return;
          }
          if (draft.kind === 'violation') {
            violations.set(
              draft.name.replace(/\d+/g, 'N'),
              (violations.get(draft.name.replace(/\d+/g, 'N')) ?? 0) + 1,
            );
            closers.push({ frames: draft.frames, code: draft.code });
            return;
          }
          if (draft.payload.length > MAX_PAYLOAD)
            return void closers.push({ frames: dataFrames(draft), code: 1009 });
          // Binary frames are held to the text-frame rule too (issue 11): invalid UTF-8 closes.
          if (!isUtf8(draft.payload)) return void closers.push({ frames: dataFrames(draft), code: 1007 });
          // The transport reads binary frames as UTF-8 text too; the codec says what comes back.
          const decoded = decodeClientFrame(draft.payload.toString('utf8'));
          if (decoded.ok) {
            stats.sent--;
            stats.skipped++;
            return;
          }
          const key = decoded.ref === undefined ? undefined : refKey(decoded.ref);
          if (key !== undefined && conn.ledger.isUsed(key)) {
            stats.sent--;
            stats.skipped++;
            return;
          }
          conn.ledger.expectError(key, decoded.error.code);
          if (draft.cuts.length > 0) fragmented++;
          out.push(...dataFrames(draft));
        });
        conns.forEach((conn, c) => conn.raw.writeMany(outgoing[c]!));
        await Promise.all(conns.map((conn) => conn.settled(30_000)));
        const closing = [...conns];
        for (const closer of closers) {
          const conn = closing.shift() ?? (await FuzzConn.open(chat.port, stats));
          await conn.expectClose(stats, () => conn.raw.writeMany(closer.frames), closer.code, 10_000);
        }
        await Promise.all(conns.map((conn) => conn.end(stats)));
        expect(chat.child.exitCode).toBe(null);
        return stats.anomalies.length === 0 && stats.internalErrors === 0;
      }),
      {
        numRuns: RUNS,
        endOnFailure: process.env.FUZZ_SHRINK === undefined,
        ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
      },
    );

    const seconds = (performance.now() - started) / 1000;
    const alive = chat.child.exitCode === null && chat.child.signalCode === null;
    const health = await fetch(`http://127.0.0.1:${chat.port}/health`);
    const rssKb = rssKbOf(chat.child.pid!);
    console.log(
      `fuzz ws-raw: ${stats.sent} frames (${fragmented} fragmented messages) in ${seconds.toFixed(1)} s, ${alive ? 0 : 1} crashes, ` +
        `${stats.answeredByEvent + stats.answeredByClose + stats.pongs} answered (${stats.answeredByEvent} errors, ${stats.pongs} pongs, ${stats.answeredByClose} clean closes), ` +
        `server /health ${health.status}, RSS ${(rssBeforeKb / 1024).toFixed(0)} -> ${(rssKb / 1024).toFixed(0)} MiB\n  ${stats.summary()}\n  violations: ${[...violations].map(([k, n]) => `${k}=${n}`).join(', ')}`,
    );
    expect(alive).toBe(true);
    expect(health.status).toBe(200);
    // Loose: 16k connections of 64 KiB frames grow the heap and the allocator's pools (the
    // per-connection heap is flat, see ws-hardening); a leak of a buffer per frame would not fit.
    expect(rssKb / 1024).toBeLessThan(512);
    expect(stats.anomalies.slice(0, 10)).toEqual([]);
    expect(stats.sent).toBeGreaterThanOrEqual(FRAMES);
    expect(stats.answeredByEvent + stats.answeredByClose + stats.pongs).toBe(stats.sent);
    expect(stats.internalErrors).toBe(0);
    expect(stats.closes.get('no-close-frame') ?? 0).toBe(0);
    // Nothing at error level or above in the server's log (pino levels 50 and 60).
    expect(
      chat
        .stderr()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l)),
    ).toEqual([]);

    await expectStillChats(chat.url);
  },
);
