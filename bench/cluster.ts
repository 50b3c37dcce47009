/**
 * Issue 13's cluster benchmark: the same loader (src/load, what `chat bench` runs), the same box,
 * one run of each setup back to back:
 *
 *   - `sqlite`: one `chat serve` on SQLite (the default single node);
 *   - `redis-1`: one `chat serve --redis` node;
 *   - `redis-2`: two `chat serve --redis` nodes, the clients spread over both (client i on node i % 2);
 *
 * for each shape: `1000x500` (1,000 members of one room, 500 msgs/s offered) and `100x10@5000`
 * (100 rooms of 10 members, 5,000 msgs/s in all). It prints deliveries/s, delivery and ack
 * latency p50/p99, and CPU per delivery of each node, of redis-server, and of all of them.
 * redis-server runs with `appendonly yes`, `appendfsync always` (as the issue's ack target asks).
 *
 * Then the connection-holding figure: three `--redis` nodes and one `chat bench --rate 0` loader
 * process per node (one process may hold at most `ulimit -n` sockets), each holding `--hold N`
 * connections (default 50,000 in all); prints connections held per node and RSS per connection.
 *
 *   npx vite-node bench/cluster.ts                          # everything (needs `npm run build`)
 *   npx vite-node bench/cluster.ts -- --duration 10 --shapes 1000x500 --hold 0
 *
 * A benchmark, not a test: it asserts nothing. The machine's other load is printed with each row
 * (`other load`, percent of one core used by everything else during the run).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startChatServer } from '../src/load/bench-command.js';
import type { Connector } from '../src/load/connector.js';
import { chatDialect } from '../src/load/dialects.js';
import { runLoad, type LoadResult } from '../src/load/loader.js';
import { sourceAddresses } from '../src/load/options.js';
import { cpuMicros, machineBusyMicros, rssKiB } from '../src/load/proc.js';
import { rawConnector } from '../src/load/raw-client.js';
import { CHAT_BIN, type ServerProcess } from '../src/load/server-process.js';
import { startRedis, type RedisProcess } from '../test/helpers/redis-server.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    duration: { type: 'string', default: '10' },
    shapes: { type: 'string' },
    setups: { type: 'string' },
    hold: { type: 'string', default: '50000' },
  },
});
const duration = Number(values.duration);
const hold = Number(values.hold);

interface Shape {
  name: string;
  clients: number;
  rooms: number;
  rate: number;
  publishers: number;
}
const SHAPES: Shape[] = [
  { name: '1000x500', clients: 1000, rooms: 1, rate: 500, publishers: 50 },
  { name: '100x10@5000', clients: 1000, rooms: 100, rate: 5000, publishers: 100 },
];
const SETUPS = ['sqlite', 'redis-1', 'redis-2'] as const;
type Setup = (typeof SETUPS)[number];
const shapes = values.shapes ? SHAPES.filter((s) => values.shapes!.split(',').includes(s.name)) : SHAPES;
const setups = values.setups ? SETUPS.filter((s) => values.setups!.split(',').includes(s)) : [...SETUPS];

const log = (s: string): void => void process.stderr.write(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The benchmark's servers for one setup: chat nodes (and redis-server), fresh each run. */
async function start(
  setup: Setup,
): Promise<{ nodes: ServerProcess[]; redis?: RedisProcess; stop(): Promise<void> }> {
  // No per-connection message limit: the loader's publishers send tens of messages a second.
  const common = ['--msg-rate', '0'];
  if (setup === 'sqlite') {
    const s = await startChatServer(false, common, 2_000);
    return { nodes: [s.server], stop: s.cleanup };
  }
  const redis = await startRedis(['--maxmemory-policy', 'noeviction']);
  const count = setup === 'redis-1' ? 1 : 2;
  const started: Awaited<ReturnType<typeof startChatServer>>[] = [];
  for (let i = 0; i < count; i++)
    started.push(await startChatServer(true, [...common, '--redis', redis.url], 2_000));
  return {
    nodes: started.map((s) => s.server),
    redis,
    stop: async () => {
      await Promise.all(started.map((s) => s.cleanup()));
      await redis.stop();
    },
  };
}

/** Client i connects to node i % nodes: spread evenly, publishers too. */
function spread(urls: string[]): Connector {
  const connectors = urls.map((u) => rawConnector(u, chatDialect));
  let i = 0;
  return (request, events) => connectors[i++ % connectors.length]!(request, events);
}

interface Row {
  shape: string;
  setup: Setup;
  result: LoadResult;
  /** CPU µs over the publish window, per process label. */
  cpu: Map<string, number>;
  otherPercent: number;
}

async function run(shape: Shape, setup: Setup): Promise<Row> {
  const { nodes, redis, stop } = await start(setup);
  const pids = new Map<string, number>(nodes.map((n, i) => [`node ${String.fromCharCode(65 + i)}`, n.pid]));
  if (redis?.child().pid !== undefined) pids.set('redis-server', redis.child().pid!);
  const cpu0 = new Map<string, number>();
  const cpu = new Map<string, number>();
  let busy0 = 0;
  let wall0 = 0;
  let self0 = process.cpuUsage();
  let otherPercent = 0;
  try {
    const result = await runLoad({
      connector: spread(nodes.map((n) => n.url)),
      clients: shape.clients,
      rooms: shape.rooms,
      publishers: shape.publishers,
      rate: shape.rate,
      durationS: duration,
      size: 100,
      localAddresses: sourceAddresses('127.0.0.1', shape.clients),
      onReady: async () => {
        await sleep(1000);
        for (const [label, pid] of pids) cpu0.set(label, cpuMicros(pid) ?? 0);
        busy0 = machineBusyMicros() ?? 0;
        self0 = process.cpuUsage();
        wall0 = performance.now();
      },
      onDone: () => {
        const wallUs = (performance.now() - wall0) * 1000;
        let servers = 0;
        for (const [label, pid] of pids) {
          const used = (cpuMicros(pid) ?? 0) - (cpu0.get(label) ?? 0);
          cpu.set(label, used);
          servers += used;
        }
        const self = process.cpuUsage(self0);
        const busy = (machineBusyMicros() ?? 0) - busy0;
        otherPercent = Math.max(0, Math.round(((busy - servers - self.user - self.system) / wallUs) * 100));
      },
    });
    return { shape: shape.name, setup, result, cpu, otherPercent };
  } finally {
    await stop();
  }
}

const HEADER =
  '| shape | setup | deliveries/s | delivered | p50 ms | p99 ms | ack p50 ms | ack p99 ms | µs CPU/delivery: all | per process | other load |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|\n';

function row(r: Row): string {
  const { result } = r;
  const n = Math.max(1, result.deliveries);
  const total = [...r.cpu.values()].reduce((a, b) => a + b, 0);
  const per = [...r.cpu].map(([label, us]) => `${label} ${(us / n).toFixed(2)}`).join(', ');
  const delivered =
    result.expected_deliveries > 0 ? (100 * result.deliveries) / result.expected_deliveries : 100;
  return (
    `| ${r.shape} | ${r.setup} | ${Math.round(result.deliveries_per_s).toLocaleString('en-US')} | ${delivered.toFixed(1)}% | ` +
    `${result.latency_ms.p50.toFixed(1)} | ${result.latency_ms.p99.toFixed(1)} | ${result.ack_latency_ms.p50.toFixed(1)} | ` +
    `${result.ack_latency_ms.p99.toFixed(1)} | ${(total / n).toFixed(2)} | ${per} | ${r.otherPercent}% |\n`
  );
}

/** One `chat bench` process holding `clients` connections to `url` for `seconds` (rate 0). */
function loader(url: string, clients: number, seconds: number): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      CHAT_BIN,
      'bench',
      '--url',
      url,
      '--clients',
      String(clients),
      // Rooms of 50: in one room every join is announced to everyone already in (n² notices).
      '--rooms',
      String(Math.max(1, Math.ceil(clients / 50))),
      '--rate',
      '0',
      '--duration',
      String(seconds),
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-1000)));
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve(code === 0 ? out : `exit ${code}: ${err}`)),
  );
}

async function connections(url: string): Promise<number> {
  const http = url.replace(/^ws/, 'http').replace(/\/ws$/, '/stats');
  try {
    const stats = (await (await fetch(http)).json()) as { connections: { total: number } };
    return stats.connections.total;
  } catch {
    return -1;
  }
}

async function holding(total: number): Promise<void> {
  const NODES = 3;
  const per = Math.ceil(total / NODES);
  const redis = await startRedis(['--maxmemory-policy', 'noeviction', '--maxclients', '100000']);
  const started: Awaited<ReturnType<typeof startChatServer>>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'chat-hold-'));
  try {
    for (let i = 0; i < NODES; i++)
      started.push(await startChatServer(true, ['--redis', redis.url, '--msg-rate', '0'], per));
    const nodes = started.map((s) => s.server);
    const before = nodes.map((n) => rssKiB(n.pid) ?? 0);
    log(`holding: 3 nodes, ${per} connections each from its own loader process\n`);
    const holdS = 30;
    const loaders = nodes.map((n) => loader(n.url, per, holdS));
    // Watch the nodes fill up; take the peak once the count stops growing.
    let peak = nodes.map(() => 0);
    let peakRss = before;
    let stable = 0;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && stable < 5) {
      await sleep(2000);
      const now = await Promise.all(nodes.map((n) => connections(n.url)));
      const sum = now.reduce((a, b) => a + Math.max(0, b), 0);
      log(`  held: ${now.join(' + ')} = ${sum}\n`);
      if (sum > peak.reduce((a, b) => a + b, 0)) {
        peak = now;
        peakRss = nodes.map((n) => rssKiB(n.pid) ?? 0);
        stable = 0;
      } else stable++;
    }
    const outs = await Promise.all(loaders);
    const held = peak.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `\n| node | connections held | RSS before MiB | RSS held MiB | RSS per connection |\n|---|---|---|---|---|\n`,
    );
    nodes.forEach((_, i) => {
      const perConn = peak[i]! > 0 ? Math.round(((peakRss[i]! - before[i]!) * 1024) / peak[i]!) : 0;
      process.stdout.write(
        `| node ${String.fromCharCode(65 + i)} | ${peak[i]!.toLocaleString('en-US')} | ${(before[i]! / 1024).toFixed(0)} | ${(peakRss[i]! / 1024).toFixed(0)} | ${perConn.toLocaleString('en-US')} B |\n`,
      );
    });
    const redisRss = rssKiB(redis.child().pid!) ?? 0;
    process.stdout.write(
      `\n${held.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} connections held across 3 nodes; redis-server RSS ${(redisRss / 1024).toFixed(0)} MiB\n`,
    );
    for (const out of outs) {
      try {
        const r = JSON.parse(out) as { connections: { held: number; failed: number } };
        log(`  loader: held ${r.connections.held}, failed ${r.connections.failed}\n`);
      } catch {
        log(`  loader: ${out.slice(0, 300)}\n`);
      }
    }
  } finally {
    await Promise.all(started.map((s) => s.cleanup()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(HEADER);
for (const shape of shapes) {
  for (const setup of setups) {
    log(`${shape.name}: ${setup}\n`);
    process.stdout.write(row(await run(shape, setup)));
  }
}
if (hold > 0) await holding(hold);
