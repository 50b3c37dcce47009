/**
 * Sums up a `perf record -g` profile of chat nodes (bench/cluster.ts `--perf DIR`) by what each
 * sample was doing, in µs of CPU per delivery: where the time of a delivery goes, comparable
 * between setups (one node on SQLite, one or two on Redis) without reading call graphs.
 *
 *   npx vite-node bench/perf-buckets.ts -- /tmp/pf/sqlite-1000x500.data 5000000
 *
 * The second argument is the deliveries in the window (the bench's deliveries/s x duration).
 * A sample goes to the first bucket whose pattern matches a frame of its stack (so `write`
 * includes the kernel's loopback work done inside the write call); samples of threads other than
 * a process's main thread are `helper threads` (V8's compiler and GC, libuv's pool). JavaScript
 * frames have names only when the nodes ran with `--perf-basic-prof`.
 */
import { execFileSync } from 'node:child_process';

const BUCKETS: [string, RegExp][] = [
  [
    'write (flush to sockets)',
    /JS:\S*write file:\S*write-coalescer\.js|JS:\S*flush file:\S*transports\/ws\.js|writeFrames/,
  ],
  ['fan-out (queueing)', /broadcast|deliverCommitted|session\.js/],
  ['redis (ioredis, feeds, commits)', /ioredis|redis-parser|redis-engine|commit-rounds|room-feed/],
  ['client reads (ws, hub, rooms)', /websocket\.js|receiver\.js|hub\.js|handleMessages/],
  ['event loop (epoll, wake-ups)', /uv__io_poll|epoll/],
];

const [file, deliveriesArg] = process.argv.slice(2).filter((a) => a !== '--');
if (!file || !deliveriesArg) {
  process.stderr.write('usage: perf-buckets.ts PERF_DATA DELIVERIES\n');
  process.exit(2);
}
const deliveries = Number(deliveriesArg);
const script = execFileSync('perf', ['script', '-i', file, '-F', 'pid,tid,ip,sym'], {
  encoding: 'utf8',
  maxBuffer: 1 << 30,
  stdio: ['ignore', 'pipe', 'ignore'],
});
const counts = new Map<string, number>();
let total = 0;
for (const sample of script.split('\n\n')) {
  const lines = sample.trim().split('\n');
  const head = lines[0]?.trim();
  if (!head) continue;
  const [pid, tid] = head.split(/\s+/)[0]!.split('/');
  const stack = lines.slice(1).join('\n');
  const bucket =
    pid !== tid ? 'helper threads' : (BUCKETS.find(([, pattern]) => pattern.test(stack))?.[0] ?? 'other');
  counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  total++;
}
// perf samples at 999 Hz: one sample is about 1 ms of CPU.
const perDelivery = (n: number): string => ((n * 1000) / deliveries).toFixed(3);
process.stdout.write(`${file}: ${total} samples, ${perDelivery(total)} µs CPU per delivery\n`);
for (const [bucket, n] of [...counts].sort((a, b) => b[1] - a[1]))
  process.stdout.write(`  ${bucket.padEnd(34)} ${String(n).padStart(6)}  ${perDelivery(n)} µs\n`);
