/**
 * `chat serve` for memory measurements: the same server (SQLite in a temporary directory, default
 * limits), started in a process run with --expose-gc, that prints its ws:// URL and, on every
 * `gc` line on stdin, collects garbage and prints one JSON line of process.memoryUsage() before
 * and after. Started by bench/room-memory.ts and bench/allocation.ts
 * (`node --expose-gc bench/gc-server.mjs [path/to/dist/server/server.js]`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

// The built server (npm run build), so the process holds nothing but it; or another build's
// dist/server/server.js given as the first argument (to compare builds).
const { startServer } = await import(
  process.argv[2] ? pathToFileURL(process.argv[2]).href : '../dist/server/server.js'
);

const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');
const dir = mkdtempSync(join(tmpdir(), 'chat-bench-'));
const server = await startServer({ port: 0, host: '127.0.0.1', dataDir: dir, logLevel: 'warn' });
process.stdout.write(`${server.url}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'gc') return;
  const before = process.memoryUsage();
  gc();
  gc();
  process.stdout.write(`${JSON.stringify({ before, after: process.memoryUsage() })}\n`);
});
const stop = () => {
  void server.close().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.stdin.once('end', stop);
