/**
 * Issue 6, fuzz: at least 100,000 structure-aware hostile JSON frames over WebSocket, pipelined
 * on a few connections per batch. Every frame must be answered (a reply or error echoing its
 * ref, a ref-less error for frames whose ref cannot be read, or a clean close), no request may
 * fail with internal_error, nothing leaks once the fuzzers leave, and a normal client still
 * chats afterwards.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { until } from '../helpers/wait.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { FuzzConn, FuzzStats } from '../helpers/fuzz-conn.js';
import { encodeFrame } from '../helpers/raw-ws.js';
import { finalizeFrame, frameDraft, RefAllocator, type FinalFrame } from '../helpers/fuzz-frames.js';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const BATCH = 1_020; // a few drafts per batch cannot be used (see finalizeFrame); 100 batches still send 100k
const RUNS = Math.ceil(FRAMES / 1_000);
const CONNS = 4;

let server: RunningServer;
const logged: string[] = [];

beforeAll(async () => {
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  // A generous queue: pipelined history pages must not turn the fuzzers into slow consumers.
  // No message, read, presence or room-creation rate limits (as in the TCP fuzzer): the flood rule and the
  // refusals-per-turn cut end a connection with a ref-less rate_limited the ledger cannot
  // predict (test/server/limits covers those).
  server = await startTestServer({
    logger,
    rateLimit: false,
    readLimit: false,
    readAddressLimit: false,
    presenceLimit: false,
    presenceAddressLimit: false,
    roomCreateLimit: false,
    roomCreateAddressLimit: false,
    maxQueueBytes: 64 * 1024 * 1024,
  });
});

afterAll(async () => {
  await server?.close();
});

it(
  'answers 100,000 hostile JSON frames with a reply, an error or a clean close, and keeps serving',
  { timeout: 240_000 },
  async () => {
    const stats = new FuzzStats();
    const started = performance.now();
    let batchNo = 0;
    const slowBefore = server.hub.counters.slowConsumers;
    // Frames whose answer their generator knew (blank nicks, newline floods), by that answer.
    const labelled = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(fc.array(frameDraft, { minLength: BATCH, maxLength: BATCH }), async (drafts) => {
        const batch = batchNo++;
        const conns = await Promise.all(
          Array.from({ length: CONNS }, () => FuzzConn.open(server.port, stats)),
        );
        const allocs = conns.map((_, i) => new RefAllocator(`b${batch}c${i}`));
        const closers: FinalFrame[] = [];
        const outgoing: Buffer[][] = conns.map(() => []);
        drafts.forEach((draft, i) => {
          const c = i % CONNS;
          const frame = finalizeFrame(draft, conns[c]!.ledger, allocs[c]!);
          if (!frame) return void stats.skipped++;
          if (draft.kind === 'object' && draft.want !== undefined)
            labelled.set(draft.want, (labelled.get(draft.want) ?? 0) + 1);
          stats.sent++;
          if (frame.expect === 'close') return void closers.push(frame);
          if (frame.expect === 'reply') conns[c]!.ledger.expectReply(frame.key);
          else conns[c]!.ledger.expectError(frame.key, frame.code);
          outgoing[c]!.push(Buffer.from(frame.text, 'utf8'));
        });
        conns.forEach((conn, c) =>
          conn.raw.writeMany(outgoing[c]!.map((payload) => encodeFrame({ opcode: 1, payload }))),
        );
        await Promise.all(conns.map((conn) => conn.settled(30_000)));
        // Frames that must close the connection go last, one per connection (fresh ones if needed).
        const closing = [...conns];
        for (const frame of closers) {
          const conn = closing.shift() ?? (await FuzzConn.open(server.port, stats));
          if (frame.expect !== 'close') continue;
          await conn.expectClose(stats, () => conn.raw.text(frame.text), frame.closeCode, 10_000);
        }
        await Promise.all(conns.map((conn) => conn.end(stats)));
        return stats.anomalies.length === 0 && stats.internalErrors === 0;
      }),
      {
        numRuns: RUNS,
        endOnFailure: process.env.FUZZ_SHRINK === undefined,
        ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
      },
    );

    const seconds = (performance.now() - started) / 1000;
    const terminated = stats.closes.get('no-close-frame') ?? 0;
    const slowConsumers = server.hub.counters.slowConsumers - slowBefore;
    console.log(
      `fuzz ws-json: ${stats.sent} frames in ${seconds.toFixed(1)} s, 0 crashes, ${stats.answeredByEvent + stats.answeredByClose} answered ` +
        `(${stats.answeredByEvent} by reply/error, ${stats.answeredByClose} by clean close), ${stats.internalErrors} internal errors, ${slowConsumers} slow-consumer cuts\n  ${stats.summary()}\n` +
        `  labelled (generator-predicted, codec agreed): ${[...labelled].map(([k, n]) => `${k}=${n}`).join(' ')}`,
    );
    expect(stats.anomalies.slice(0, 10)).toEqual([]);
    expect(stats.sent).toBeGreaterThanOrEqual(FRAMES);
    expect(stats.answeredByEvent + stats.answeredByClose).toBe(stats.sent);
    expect(stats.internalErrors).toBe(0);
    for (const want of ['bad_nick', 'too_many_lines', 'ok'])
      expect(labelled.get(want) ?? 0).toBeGreaterThan(0);
    // A connection may only be dropped without a close frame as a slow consumer.
    expect(terminated).toBe(slowConsumers);
    expect(logged.slice(0, 5)).toEqual([]);

    // Nothing leaks: once the fuzzers are gone no session, nick or watcher is left behind.
    await until(
      () => server.hub.snapshot().connections.ws === 0 && server.hub.snapshot().users === 0,
      10_000,
    );
    console.log(`fuzz ws-json: after the fuzzers left: ${JSON.stringify(server.hub.snapshot())}`);

    await expectStillChats(server.url);
  },
);
