/**
 * Allocation on the server's delivery path: runs a load against a built server started with
 * V8's --trace-gc-nvp and sums, over the publishing window, the bytes V8 allocated on the JS
 * heap (each GC line's `allocated=`), the GCs and their pauses; per delivery and per message.
 *
 *   npm run build && npx vite-node bench/allocation.ts                       # 100 rooms of 20, 5,000 msgs/s (the ack shape)
 *   npx vite-node bench/allocation.ts -- --clients 1000 --rooms 1 --rate 100
 *   npx vite-node bench/allocation.ts -- --server /tmp/old/dist/server/server.js   # another build
 *
 * Heap allocation only: the bytes of Buffers live outside the heap (their small JS objects are
 * counted). The figure is within one GC cycle of the truth (a GC counts what was allocated since
 * the one before). A benchmark, not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chatDialect } from '../src/load/dialects.js';
import { runLoad } from '../src/load/loader.js';
import { rawConnector } from '../src/load/raw-client.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    clients: { type: 'string', default: '2000' },
    rooms: { type: 'string', default: '100' },
    rate: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '8' },
    server: { type: 'string' },
  },
  allowPositionals: false,
});
const clients = Number(values.clients);
const rooms = Number(values.rooms);
const rate = Number(values.rate);

interface Gc {
  kind: string;
  pause: number;
  allocated: number;
}

const child = spawn(
  process.execPath,
  [
    '--expose-gc',
    '--trace-gc-nvp',
    fileURLToPath(new URL('gc-server.mjs', import.meta.url)),
    ...(values.server ? [values.server] : []),
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const gcs: Gc[] = [];
let resolveUrl: (url: string) => void;
const url = new Promise<string>((r) => (resolveUrl = r));
createInterface({ input: child.stdout! }).on('line', (line) => {
  if (line.startsWith('ws://')) return resolveUrl(line.trim());
  const kind = /\bgc=(\w+)/.exec(line)?.[1];
  const pause = /\bpause=([\d.]+)/.exec(line)?.[1];
  const allocated = /\ballocated=(\d+)/.exec(line)?.[1];
  if (kind !== undefined && allocated !== undefined)
    gcs.push({ kind, pause: Number(pause ?? 0), allocated: Number(allocated) });
});

let from = 0;
let to = 0;
const result = await runLoad({
  connector: rawConnector(await url, chatDialect),
  clients,
  rooms,
  publishers: Math.min(clients, Math.ceil(rate / 4)),
  rate,
  durationS: Number(values.duration),
  size: 100,
  onReady: () => {
    from = gcs.length;
  },
  onDone: () => {
    to = gcs.length;
  },
});
child.stdin!.end();
await new Promise((r) => child.once('exit', r));

const window = gcs.slice(from, to);
const allocated = window.reduce((n, g) => n + g.allocated, 0);
const pauses = window.map((g) => g.pause);
const kinds = (k: string): number => window.filter((g) => g.kind === k).length;
process.stdout.write(
  `${clients} clients, ${rooms} room(s), ${rate} msgs/s: ${result.sent.toLocaleString('en-US')} messages, ${result.deliveries.toLocaleString('en-US')} deliveries\n` +
    `JS heap allocated ${(allocated / 1048576).toFixed(1)} MiB: ${Math.round(allocated / Math.max(1, result.deliveries))} B per delivery, ` +
    `${Math.round(allocated / Math.max(1, result.sent))} B per message\n` +
    `GCs ${window.length} (scavenges ${kinds('s')}, mark-compacts ${kinds('mc') + kinds('mmc')}), ` +
    `pause total ${pauses.reduce((a, b) => a + b, 0).toFixed(1)} ms, max ${Math.max(0, ...pauses).toFixed(1)} ms\n` +
    `latency p99 ${result.latency_ms.p99} ms, ack p99 ${result.ack_latency_ms.p99} ms\n`,
);
