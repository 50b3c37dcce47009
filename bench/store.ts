/**
 * Messages persisted per second by SqliteStore, batched (one transaction per event-loop turn)
 * against unbatched (one per append), with synchronous NORMAL and FULL.
 *
 *   npx vite-node bench/store.ts [-- --messages 20000 --rooms 10 --size 100 --per-turn 50 --dir /path]
 *
 * A benchmark, not a test: it prints a table and asserts nothing. `--per-turn` is how many appends
 * arrive in one event-loop turn, as if read from that many sockets at once. `--dir` picks the disk
 * (default: the OS temp dir); fsync cost, and so every FULL figure, depends on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/server/store/sqlite.js';
import type { AppendRecord } from '../src/server/store/store.js';

interface Run {
  synchronous: 'normal' | 'full';
  batch: boolean;
}

interface Result extends Run {
  seconds: number;
  transactions: number;
}

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    rooms: { type: 'string', default: '10' },
    size: { type: 'string', default: '100' },
    'per-turn': { type: 'string', default: '50' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const MESSAGES = Number(values.messages);
const ROOMS = Number(values.rooms);
const SIZE = Number(values.size);
const PER_TURN = Number(values['per-turn']);

/** Persists MESSAGES messages round-robin across ROOMS, PER_TURN appends per event-loop turn. */
async function run(config: Run): Promise<Result> {
  const dir = mkdtempSync(join(values.dir, 'chat-bench-'));
  const store = new SqliteStore({ path: join(dir, 'chat.db'), ...config });
  try {
    const rooms = Array.from({ length: ROOMS }, (_, i) => `room-${i}`);
    for (const room_id of rooms) {
      await store.createRoom({ room_id, room_name: room_id, created_by: 'bench', created_ts: Date.now() });
    }
    const text = 'x'.repeat(SIZE);
    const seqs = new Map(rooms.map((r) => [r, 0]));
    const acks: Promise<void>[] = [];
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
      if ((i + 1) % PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(acks);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { ...config, seconds, transactions: store.stats.transactions };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [
  { synchronous: 'normal', batch: true },
  { synchronous: 'normal', batch: false },
  { synchronous: 'full', batch: true },
  { synchronous: 'full', batch: false },
];

console.log(
  `SqliteStore: ${MESSAGES} messages of ${SIZE} chars across ${ROOMS} rooms, ${PER_TURN} appends per turn, in ${values.dir}\n`,
);
const rows = [['synchronous', 'mode', 'transactions', 'seconds', 'messages/s']];
for (const config of runs) {
  const r = await run(config);
  rows.push([
    r.synchronous.toUpperCase(),
    r.batch ? 'batched' : 'unbatched',
    String(r.transactions),
    r.seconds.toFixed(2),
    Math.round(MESSAGES / r.seconds).toLocaleString('en-US'),
  ]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
