/**
 * One loader process of bench/cluster.ts's holding run: opens `--clients` WebSocket connections
 * to `--url` (each a `hello` and a `join` of a room of 50: src/load's raw client, what
 * `chat bench` uses), at most `--concurrency` handshakes in flight, then HOLDS them until its
 * stdin closes (the parent decides when the count is read), unlike `chat bench --rate 0`, which
 * closes them as soon as all are open. Prints one JSON line when all are open and one when done.
 *
 *   npx vite-node bench/hold-loader.ts -- --url ws://127.0.0.1:8080/ws --clients 8000 --concurrency 64
 */
import { parseArgs } from 'node:util';
import { chatDialect } from '../src/load/dialects.js';
import { runLoad } from '../src/load/loader.js';
import { rawConnector } from '../src/load/raw-client.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
  },
});
const clients = Number(values.clients);
const stdinClosed = new Promise<void>((resolve) => {
  process.stdin.on('end', resolve).on('close', resolve).resume();
});
const started = Date.now();
let connected = 0;
let failed = 0;
const result = await runLoad({
  connector: rawConnector(values.url!, chatDialect),
  clients,
  rooms: Math.max(1, Math.ceil(clients / 50)),
  publishers: 0,
  rate: 0,
  durationS: 0.1,
  size: 100,
  connectConcurrency: Number(values.concurrency),
  // Under a starved machine a join may take long; a timed-out one is counted as failed.
  joinTimeoutMs: 120_000,
  onProgress: (p) => {
    connected = p.connected;
    failed = p.failed;
  },
  onReady: async () => {
    process.stdout.write(
      `${JSON.stringify({ ready: true, connect_s: (Date.now() - started) / 1000, connected, failed })}\n`,
    );
    await stdinClosed;
  },
});
process.stdout.write(
  `${JSON.stringify({ done: true, connections: result.connections, connect_failures: result.connect_failures, disconnect_reasons: result.disconnect_reasons })}\n`,
);
process.exit(0);
