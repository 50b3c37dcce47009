/**
 * Messages persisted per second by SqliteStore, batched (one transaction per event-loop turn)
 * against unbatched (one per append), with synchronous NORMAL and FULL, and with WAL checkpoints
 * on the worker thread (the default) against SQLite's own inside the commit. For each, how long a
 * turn's appends take to resolve (p50/p99/max: what a commit adds to an acknowledgement) and the
 * process CPU per message (the worker's included).
 *
 *   npx vite-node bench/sqlite-append.ts [-- --messages 20000 --rooms 10 --size 100 --per-turn 50 --dir /path
 *                                    --checkpoint-delay 100 --pace 0]
 *
 * A benchmark, not a test: it prints a table and asserts nothing. `--per-turn` is how many appends
 * arrive in one event-loop turn, as if read from that many sockets at once. `--dir` picks the disk
 * (default: the OS temp dir); fsync cost, and so every FULL figure, depends on it. `--pace MS` waits
 * that long between turns, as a server under steady load does (`--per-turn 5 --rooms 100 --pace 1`
 * is about 5,000 msgs/s across 100 rooms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/server/store/sqlite.js';
import type { AppendRecord } from '../src/server/store/store-types.js';

interface Run {
  synchronous: 'normal' | 'full';
  batch: boolean;
  /** 0: SQLite checkpoints inside the commit that crosses 1,000 WAL pages. */
  checkpointDelayMs?: number;
}

interface Result extends Run {
  seconds: number;
  transactions: number;
  /** Per turn: from its first append to its last append resolving, ms, sorted. */
  turnMs: number[];
  cpuUs: number;
}

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rooms: { type: 'string', default: '10' },
    size: { type: 'string', default: '100' },
    'per-turn': { type: 'string', default: '50' },
    dir: { type: 'string', default: tmpdir() },
    'checkpoint-delay': { type: 'string', default: '100' },
    pace: { type: 'string', default: '0' },
  },
});
const MESSAGES = Number(values.messages);
const ROOMS = Number(values.rooms);
const SIZE = Number(values.size);
const PER_TURN = Number(values['per-turn']);
/** checkpointDelayMs of the runs whose checkpoints are on the worker. */
const CHECKPOINT_DELAY = Number(values['checkpoint-delay']);
/** ms to wait between turns, as a server under a steady load does (0: flat out). */
const PACE = Number(values.pace);

/** Persists MESSAGES messages round-robin across ROOMS, PER_TURN appends per event-loop turn. */
async function run(config: Run): Promise<Result> {
  const dir = mkdtempSync(join(values.dir, 'chat-bench-'));
  const store = new SqliteStore({
    path: join(dir, 'chat.db'),
    checkpointDelayMs: CHECKPOINT_DELAY,
    ...config,
  });
  try {
    const rooms = Array.from({ length: ROOMS }, (_, i) => `room-${i}`);
    for (const room_id of rooms) {
      await store.createRoom({ room_id, room_name: room_id, created_by: 'bench', created_ts: Date.now() });
    }
    const text = 'x'.repeat(SIZE);
    const seqs = new Map(rooms.map((r) => [r, 0]));
    let acks: Promise<void>[] = [];
    const turnMs: number[] = [];
    let turnStart = performance.now();
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < MESSAGES; i++) {
      const room_id = rooms[i % ROOMS]!;
      const seq = seqs.get(room_id)! + 1;
      seqs.set(room_id, seq);
      const record: AppendRecord = {
        room_id,
        seq,
        id: `${room_id}-${seq}`,
        ts: Date.now(),
        user_name: 'bench',
        sender_key: 'bench',
        message: text,
        client_msg_id: `c${i}`,
      };
      acks.push(store.append([record]));
      // End the turn, as a server does between socket reads; the store flushes on this boundary.
      if ((i + 1) % PER_TURN === 0 || i === MESSAGES - 1) {
        await Promise.all(acks);
        acks = [];
        const now = performance.now();
        turnMs.push(now - turnStart);
        if (PACE > 0) await new Promise((resolve) => setTimeout(resolve, PACE));
        turnStart = performance.now();
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    turnMs.sort((a, b) => a - b);
    return {
      ...config,
      seconds,
      transactions: store.stats.transactions,
      turnMs,
      cpuUs: cpu.user + cpu.system,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [
  { synchronous: 'normal', batch: true },
  { synchronous: 'normal', batch: true, checkpointDelayMs: 0 },
  { synchronous: 'normal', batch: false },
  { synchronous: 'full', batch: true },
  { synchronous: 'full', batch: false },
];

console.log(
  `SqliteStore: ${MESSAGES} messages of ${SIZE} chars across ${ROOMS} rooms, ${PER_TURN} appends per turn, in ${values.dir}\n`,
);
const rows = [
  [
    'synchronous',
    'mode',
    'checkpoints',
    'transactions',
    'seconds',
    'messages/s',
    'turn p50 ms',
    'p99',
    'p99.9',
    'max',
    'CPU µs/msg',
  ],
];
const at = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
for (const config of runs) {
  const r = await run(config);
  rows.push([
    r.synchronous.toUpperCase(),
    r.batch ? 'batched' : 'unbatched',
    r.checkpointDelayMs === 0 ? 'in commit' : 'worker',
    String(r.transactions),
    r.seconds.toFixed(2),
    Math.round(MESSAGES / r.seconds).toLocaleString('en-US'),
    at(r.turnMs, 0.5).toFixed(3),
    at(r.turnMs, 0.99).toFixed(3),
    at(r.turnMs, 0.999).toFixed(3),
    (r.turnMs[r.turnMs.length - 1] ?? 0).toFixed(2),
    (r.cpuUs / MESSAGES).toFixed(1),
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
