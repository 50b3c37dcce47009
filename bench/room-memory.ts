/**
 * What a member of a big room costs in server memory, and whether it stays: N clients join one
 * room (or rooms of `--per-room`), then the server's RSS and heap are read after the joins
 * settle, after a forced GC, and again a few seconds later.
 *
 *   npm run build && npx vite-node bench/room-memory.ts                 # 1,000 in one room, then 1,000 in rooms of 100
 *   npx vite-node bench/room-memory.ts -- --clients 2000 --per-room 2000
 *
 * The server is the built one (dist/), started with --expose-gc by bench/gc-server.mjs, SQLite in a
 * temporary directory. A benchmark, not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chatDialect } from '../src/load/dialects.js';
import { runLoad } from '../src/load/loader.js';
import { rssKiB } from '../src/load/proc.js';
import { rawConnector } from '../src/load/raw-client.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    clients: { type: 'string', default: '1000' },
    'per-room': { type: 'string', multiple: true },
    settle: { type: 'string', default: '2000' },
  },
  allowPositionals: false,
});
const clients = Number(values.clients);
const perRoom = (values['per-room'] ?? [String(clients), '100']).map(Number);
const settleMs = Number(values.settle);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Usage {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function measure(size: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', fileURLToPath(new URL('gc-server.mjs', import.meta.url))],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('the server exited');
    return r.value;
  };
  const url = await next();
  const pid = child.pid!;
  const gcNow = async (): Promise<{ before: Usage; after: Usage }> => {
    child.stdin!.write('gc\n');
    return JSON.parse(await next()) as { before: Usage; after: Usage };
  };
  await sleep(500);
  const base = await gcNow();
  const rss0 = rssKiB(pid)!;
  const rows: [string, number, number][] = [];
  const per = (kib: number, base: number): number => Math.round(((kib - base) * 1024) / clients);
  await runLoad({
    connector: rawConnector(url, chatDialect),
    clients,
    rooms: Math.max(1, Math.round(clients / size)),
    publishers: 1,
    rate: 0,
    durationS: 0.1,
    size: 100,
    onReady: async () => {
      await sleep(settleMs);
      const settled = rssKiB(pid)!;
      const g = await gcNow();
      const afterGc = rssKiB(pid)!;
      rows.push([
        'joins settled, no GC',
        per(settled, rss0),
        Math.round((g.before.heapUsed - base.after.heapUsed) / clients),
      ]);
      rows.push([
        'after a forced GC',
        per(afterGc, rss0),
        Math.round((g.after.heapUsed - base.after.heapUsed) / clients),
      ]);
      await sleep(5000);
      const later = await gcNow();
      rows.push([
        '5 s later, after GC',
        per(rssKiB(pid)!, rss0),
        Math.round((later.after.heapUsed - base.after.heapUsed) / clients),
      ]);
    },
  });
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  process.stdout.write(
    `\n${clients} clients in rooms of ${size} (server RSS ${(rss0 / 1024).toFixed(1)} MiB before)\n`,
  );
  process.stdout.write('| when | RSS B/member | JS heap B/member |\n|---|---|---|\n');
  for (const [when, rss, heap] of rows)
    process.stdout.write(`| ${when} | ${rss.toLocaleString('en-US')} | ${heap.toLocaleString('en-US')} |\n`);
}

for (const size of perRoom) await measure(size);
