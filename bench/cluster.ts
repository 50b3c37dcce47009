/**
 * Issue 13's cluster benchmark: the same loader (src/load, what `chat bench` runs), the same box,
 * one run of each setup back to back:
 *
 *   - `sqlite`: one `chat serve` on SQLite (the default single node);
 *   - `redis-1`: one `chat serve --redis` node;
 *   - `redis-2`: two `chat serve --redis` nodes, the clients spread over both (client i on node i % 2);
 *   - `redis-2s`: the same two nodes, each with `--write-share 12.5` (half the default: see SETUPS);
 *
 * for each shape: `1000x500` (1,000 members of one room, 500 msgs/s offered) and `100x10@5000`
 * (100 rooms of 10 members, 5,000 msgs/s in all). It prints deliveries/s, delivery and ack
 * latency p50/p99, and CPU per delivery of each node, of redis-server, and of all of them.
 * redis-server runs with `appendonly yes`, `appendfsync always` (as the issue's ack target asks;
 * `--appendfsync everysec` to compare).
 *
 * Then the connection-holding figure: three `--redis` nodes and `--loaders-per-node` (default 2)
 * bench/hold-loader.ts processes per node (one process may hold at most `ulimit -n` sockets), at
 * most `--concurrency` (default 32) handshakes in flight each, together opening `--hold N`
 * connections (default 50,000) and holding them until every loader is done or `--hold-minutes`
 * (default 15) passed; prints connections held per node, RSS per connection, and the CPU each
 * process used per connection (what limits the ramp on a small box). `--kill-one` then SIGKILLs
 * node C and shows the other two reaping it (in slices) while they hold theirs.
 *
 *   npx vite-node bench/cluster.ts                          # everything (needs `npm run build`)
 *   npx vite-node bench/cluster.ts -- --duration 10 --shapes 1000x500 --hold 0
 *   npx vite-node bench/cluster.ts -- --shapes none --hold 50000       # the holding run only
 *   npx vite-node bench/cluster.ts -- --hold 0 '--node-args=--max-write-delay 5'   # extra flags, every node (with =: the value starts with a dash)
 *   npx vite-node bench/cluster.ts -- --hold 0 --pin   # nodes on their own CPU (taskset), loader and Redis on the rest
 *   npx vite-node bench/cluster.ts -- --hold 0 --repeat 3   # three interleaved runs, medians and ratios
 *   CHAT_BENCH_SERVER_NODE_ARGS=--perf-basic-prof npx vite-node bench/cluster.ts -- --hold 0 --perf /tmp/pf
 *       # a perf profile of the nodes over each publishing window (bench/perf-buckets.ts sums it up)
 *
 * A benchmark, not a test: it asserts nothing. Each row also prints the loader's own CPU (this
 * process), the machine's other load (everything else) and how busy the whole machine was, each in
 * percent of one core over the window: on a small box the latencies are read against those.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus as cpuList } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startChatServer } from '../src/load/bench-command.js';
import type { Connector } from '../src/load/connector.js';
import { chatDialect } from '../src/load/dialects.js';
import { runLoad, type LoadResult } from '../src/load/loader.js';
import { sourceAddresses } from '../src/load/options.js';
import {
  cpuMicros,
  machineBusyMicros,
  mainThreadCpuMicros,
  rssKiB,
  wakeups,
  writeSyscalls,
} from '../src/load/proc.js';
import { rawConnector } from '../src/load/raw-client.js';
import type { ServerProcess } from '../src/load/server-process.js';
import { Redis } from 'ioredis';
import { startRedis, type RedisProcess } from '../test/helpers/redis-server.js';
import { probeRedisWaits } from './redis-wait-probe.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    duration: { type: 'string', default: '10' },
    /**
     * Seconds of the same load, on other rooms, before the measured run: V8 optimises the
     * message path while it runs (TurboFan's compiles took ~6% of a node's CPU in a cold 10 s
     * window, twice that with two nodes), so the window measures the steady state. 0: none.
     */
    warmup: { type: 'string', default: '3' },
    shapes: { type: 'string' },
    setups: { type: 'string' },
    hold: { type: 'string', default: '50000' },
    'loaders-per-node': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
    'hold-minutes': { type: 'string', default: '15' },
    'kill-one': { type: 'boolean', default: false },
    'redis-stats': { type: 'boolean', default: false },
    /**
     * Pins the chat nodes to the last CPU and redis-server and this loader to the others
     * (`taskset`), so a node never shares its core with the loader or Redis: the per-delivery cost
     * without the cache and scheduling churn of three or four busy processes on two cores.
     */
    pin: { type: 'boolean', default: false },
    /**
     * Records `perf` profiles (`perf record -g -e cpu-clock`, Debian's linux-perf) of the chat
     * nodes and, in a file of its own, of redis-server over the publishing window only, in this
     * directory. Give the nodes
     * `--perf-basic-prof` (CHAT_BENCH_SERVER_NODE_ARGS) so JavaScript frames have names.
     */
    perf: { type: 'string' },
    /** Extra `chat serve` flags for every node of every setup (split on spaces). */
    'node-args': { type: 'string', default: '' },
    /** redis-server's `appendfsync` for the setups (always, everysec or no): what each costs the acks. */
    appendfsync: { type: 'string', default: 'always' },
    /**
     * Runs of every setup per shape, interleaved (sqlite, redis-1, redis-2, sqlite, ...): the SQLite
     * node's own figure moves 5-10% from run to run, so one run's ratio says little. The summary
     * gives each setup's median and the ratio of the medians.
     */
    repeat: { type: 'string', default: '1' },
  },
});
if (!['always', 'everysec', 'no'].includes(values.appendfsync))
  throw new Error('--appendfsync: always, everysec or no');
const loadersPerNode = Number(values['loaders-per-node']);
const concurrency = Number(values.concurrency);
const holdMinutes = Number(values['hold-minutes']);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat: a whole number of runs, 1 or more');
const killOne = values['kill-one'];
const redisStats = values['redis-stats'];
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const hold = Number(values.hold);
const pin = values.pin;
const nodeArgs = values['node-args'].split(' ').filter((a) => a !== '');

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
  // The same 5,000 msgs/s over 100 rooms with the publishers alone (acknowledgements only): the
  // commit path's latency (with `appendfsync always`) apart from 45,000 fan-out deliveries a
  // second competing for the same cores.
  { name: '100x1@5000', clients: 100, rooms: 100, rate: 5000, publishers: 100 },
];
/** Any other `RxM@RATE` asked for: R rooms of M members, one publisher per room, RATE msgs/s in all. */
function adHocShape(name: string): Shape | undefined {
  const m = /^(\d+)x(\d+)@(\d+)$/.exec(name);
  if (!m) return undefined;
  const [rooms, members, rate] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { name, clients: rooms * members, rooms, rate, publishers: rooms };
}
/**
 * `redis-2s`: two nodes, each with half the default `--write-share` (12.5%). The flush pacer
 * lets each node spend up to its write share of wall time on socket writes under sustained load
 * (and a loaded node does), so two nodes on one box spend twice one node's write time on the
 * same deliveries; this row gives the two together one node's write budget.
 */
const SETUPS = ['sqlite', 'redis-1', 'redis-2', 'redis-2s'] as const;
type Setup = (typeof SETUPS)[number];
const shapes = values.shapes
  ? values.shapes
      .split(',')
      .filter((n) => n !== 'none')
      .map((n) => {
        const shape = SHAPES.find((s) => s.name === n) ?? adHocShape(n);
        if (!shape)
          throw new Error(`--shapes: no shape ${n} (${SHAPES.map((s) => s.name).join(', ')}, or RxM@RATE)`);
        return shape;
      })
  : SHAPES;
const setups = values.setups ? SETUPS.filter((s) => values.setups!.split(',').includes(s)) : [...SETUPS];

const log = (s: string): void => void process.stderr.write(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The benchmark's servers for one setup: chat nodes (and redis-server), fresh each run. */
async function start(
  setup: Setup,
): Promise<{ nodes: ServerProcess[]; redis?: RedisProcess; stop(): Promise<void> }> {
  // No per-connection message limit: the loader's publishers send tens of messages a second.
  const common = ['--msg-rate', '0', ...nodeArgs];
  if (setup === 'sqlite') {
    const s = await startChatServer(false, common, 2_000);
    return { nodes: [s.server], stop: s.cleanup };
  }
  const redis = await startRedis(['--maxmemory-policy', 'noeviction', '--appendfsync', values.appendfsync]);
  const count = setup === 'redis-1' ? 1 : 2;
  const pacing = setup === 'redis-2s' ? ['--write-share', '12.5'] : [];
  const started: Awaited<ReturnType<typeof startChatServer>>[] = [];
  for (let i = 0; i < count; i++)
    started.push(await startChatServer(true, [...common, ...pacing, '--redis', redis.url], 2_000));
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
  /** Of that, the main thread's (chat nodes): the rest is V8's and libuv's helper threads. */
  mainCpu: Map<string, number>;
  /** Write system calls over the publish window, per chat node (to clients and to Redis). */
  writes: Map<string, number>;
  /** Main-thread wake-ups per second over the publish window, summed over the chat nodes. */
  wakeupsPerS: number;
  otherPercent: number;
  /** This process (the loader) and the whole machine over the window, percent of one core. */
  loaderPercent: number;
  machinePercent: number;
}

async function run(shape: Shape, setup: Setup): Promise<Row> {
  const { nodes, redis, stop } = await start(setup);
  const pids = new Map<string, number>(nodes.map((n, i) => [`node ${String.fromCharCode(65 + i)}`, n.pid]));
  if (redis?.child().pid !== undefined) pids.set('redis-server', redis.child().pid!);
  const cpu0 = new Map<string, number>();
  const cpu = new Map<string, number>();
  const nodes0 = new Map<string, NodeCounters>();
  const mainCpu = new Map<string, number>();
  const writes = new Map<string, number>();
  let wakeupsPerS = 0;
  let busy0 = 0;
  let wall0 = 0;
  let self0 = process.cpuUsage();
  let otherPercent = 0;
  let loaderPercent = 0;
  let machinePercent = 0;
  let profiler: ChildProcess | undefined;
  let redisProfiler: ChildProcess | undefined;
  try {
    if (pin) pinProcesses(pids);
    // The shape's load; the warm-up runs it on rooms of its own (each run has its own run id).
    const load = () => ({
      connector: spread(nodes.map((n) => n.url)),
      clients: shape.clients,
      rooms: shape.rooms,
      publishers: shape.publishers,
      rate: shape.rate,
      size: 100,
      localAddresses: sourceAddresses('127.0.0.1', shape.clients),
    });
    if (warmup > 0) {
      log(`  warm-up: ${warmup} s of the same load\n`);
      await runLoad({ ...load(), durationS: warmup });
    }
    const result = await runLoad({
      ...load(),
      durationS: duration,
      onReady: async () => {
        await sleep(1000);
        if (values.perf !== undefined) {
          profiler = await startPerf(
            values.perf,
            `${setup}-${shape.name}`,
            nodes.map((n) => n.pid),
          );
          const redisPid = redis?.child().pid;
          if (redisPid !== undefined)
            redisProfiler = await startPerf(values.perf, `${setup}-${shape.name}-redis`, [redisPid]);
        }
        if (redisStats && redis) await redisAdmin(redis, (a) => a.config('RESETSTAT'));
        for (const [label, pid] of pids) cpu0.set(label, cpuMicros(pid) ?? 0);
        for (const [label, pid] of pids) if (label !== 'redis-server') nodes0.set(label, nodeCounters(pid));
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
          const before = nodes0.get(label);
          if (!before) continue;
          const now = nodeCounters(pid);
          writes.set(label, now.writes - before.writes);
          mainCpu.set(label, now.mainCpu - before.mainCpu);
          wakeupsPerS += (now.wakeups - before.wakeups) / (wallUs / 1e6);
        }
        const self = process.cpuUsage(self0);
        const busy = (machineBusyMicros() ?? 0) - busy0;
        otherPercent = Math.max(0, Math.round(((busy - servers - self.user - self.system) / wallUs) * 100));
        loaderPercent = Math.round(((self.user + self.system) / wallUs) * 100);
        machinePercent = Math.round((busy / wallUs) * 100);
        profiler?.kill('SIGINT');
        redisProfiler?.kill('SIGINT');
      },
    });
    for (const p of [profiler, redisProfiler])
      if (p && p.exitCode === null) await new Promise((r) => p.once('exit', r));
    if (redisStats && redis)
      log(
        `  redis-server over the window:\n${await redisAdmin(redis, async (a) => (await a.info('commandstats')) + (await a.info('errorstats')))}\n`,
      );
    return {
      shape: shape.name,
      setup,
      result,
      cpu,
      mainCpu,
      writes,
      wakeupsPerS,
      otherPercent,
      loaderPercent,
      machinePercent,
    };
  } finally {
    await stop();
    if (pin) setAffinity(process.pid, allCpus());
  }
}

/** `--pin`: chat nodes on the last CPU; redis-server and this loader on the rest. */
function pinProcesses(pids: Map<string, number>): void {
  // The machine's CPUs, not this process's affinity (pinned after the first run).
  const cpus = cpuList().length;
  if (cpus < 2) throw new Error('--pin needs at least two CPUs');
  const last = String(cpus - 1);
  const rest = cpus === 2 ? '0' : `0-${cpus - 2}`;
  for (const [label, pid] of pids) setAffinity(pid, label === 'redis-server' ? rest : last);
  setAffinity(process.pid, rest);
}

function allCpus(): string {
  return `0-${cpuList().length - 1}`;
}

/** Every thread of `pid` onto `cpus` (a taskset list). */
function setAffinity(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** `--perf DIR`: perf record of some processes (the chat nodes; redis-server) into DIR/NAME.data. */
async function startPerf(dir: string, name: string, processes: number[]): Promise<ChildProcess> {
  const out = `${dir}/${name}.data`;
  const pids = processes.join(',');
  const child = spawn('perf', ['record', '-F', '999', '-g', '-e', 'cpu-clock', '-p', pids, '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d: Buffer) => log(`  perf: ${String(d)}`));
  // perf says nothing until it stops; give it a moment to attach.
  await sleep(300);
  log(`  perf recording ${pids} to ${out}\n`);
  return child;
}

/** What the bench reads of a chat node (not redis-server) at each end of the window. */
interface NodeCounters {
  writes: number;
  mainCpu: number;
  wakeups: number;
}

function nodeCounters(pid: number): NodeCounters {
  return {
    writes: writeSyscalls(pid) ?? 0,
    mainCpu: mainThreadCpuMicros(pid) ?? 0,
    wakeups: wakeups(pid) ?? 0,
  };
}

/** One command on a short-lived admin link (`--redis-stats`: what redis-server ran in the window). */
async function redisAdmin<T>(redis: RedisProcess, fn: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = new Redis({ path: redis.socket });
  try {
    return await fn(admin);
  } finally {
    admin.disconnect();
  }
}

const HEADER =
  '| shape | setup | deliveries/s | delivered | p50 ms | p99 ms | ack p50 ms | ack p99 ms | µs CPU/delivery: all | per process | writes/delivery | node wake-ups/s | loader CPU | other load | machine busy |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';

function row(r: Row): string {
  const { result } = r;
  const n = Math.max(1, result.deliveries);
  const per = [...r.cpu]
    .map(([label, us]) => {
      const main = r.mainCpu.get(label);
      return `${label} ${(us / n).toFixed(2)}${main === undefined ? '' : ` (main thread ${(main / n).toFixed(2)})`}`;
    })
    .join(', ');
  const written = [...r.writes.values()].reduce((a, b) => a + b, 0);
  const delivered =
    result.expected_deliveries > 0 ? (100 * result.deliveries) / result.expected_deliveries : 100;
  return (
    `| ${r.shape} | ${r.setup} | ${Math.round(result.deliveries_per_s).toLocaleString('en-US')} | ${delivered.toFixed(1)}% | ` +
    `${result.latency_ms.p50.toFixed(1)} | ${result.latency_ms.p99.toFixed(1)} | ${result.ack_latency_ms.p50.toFixed(1)} | ` +
    `${result.ack_latency_ms.p99.toFixed(1)} | ${cpuPerDelivery(r).toFixed(2)} | ${per} | ${(written / n).toFixed(3)} | ${Math.round(r.wakeupsPerS).toLocaleString('en-US')} | ${r.loaderPercent}% | ${r.otherPercent}% | ${r.machinePercent}% of ${cpuList().length * 100}% |\n`
  );
}

/** All CPU (nodes and redis-server) per delivery of a row, µs. */
function cpuPerDelivery(r: Row): number {
  return [...r.cpu.values()].reduce((a, b) => a + b, 0) / Math.max(1, r.result.deliveries);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Per shape: each setup's median CPU per delivery and ack p99 over the runs, and the ratio of
 * its median CPU to the SQLite node's (the issue's targets: two nodes <= 1.5x; ack p99 <= 20 ms).
 */
function summary(all: Row[]): string {
  let out =
    '\n| shape | setup | runs | median µs CPU/delivery | x SQLite node | median ack p99 ms |\n|---|---|---|---|---|---|\n';
  for (const shape of new Set(all.map((r) => r.shape))) {
    const of = (setup: Setup) => all.filter((r) => r.shape === shape && r.setup === setup);
    const base = of('sqlite').length > 0 ? median(of('sqlite').map(cpuPerDelivery)) : undefined;
    for (const setup of setups) {
      const runs = of(setup);
      if (runs.length === 0) continue;
      const cpu = median(runs.map(cpuPerDelivery));
      const ratio = base === undefined ? '' : `${(cpu / base).toFixed(2)}x`;
      out += `| ${shape} | ${setup} | ${runs.length} | ${cpu.toFixed(2)} | ${ratio} | ${median(runs.map((r) => r.result.ack_latency_ms.p99)).toFixed(1)} |\n`;
    }
  }
  return out;
}

const VITE_NODE = fileURLToPath(new URL('../node_modules/vite-node/vite-node.mjs', import.meta.url));
const HOLD_LOADER = fileURLToPath(new URL('./hold-loader.ts', import.meta.url));

/** A bench/hold-loader.ts process: opens `clients` connections to `url` and holds them until `release`. */
interface HoldLoader {
  pid: number;
  /** Resolves when all its connections were tried (the JSON line). */
  ready: Promise<{ connect_s: number }>;
  /** Closes its stdin: it closes its connections, prints its figures and exits. */
  release(): Promise<string>;
}

function holdLoader(url: string, clients: number, concurrency: number): HoldLoader {
  const child = spawn(
    process.execPath,
    [
      VITE_NODE,
      HOLD_LOADER,
      '--',
      '--url',
      url,
      '--clients',
      String(clients),
      '--concurrency',
      String(concurrency),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let onReady!: (r: { connect_s: number }) => void;
  const ready = new Promise<{ connect_s: number }>((r) => (onReady = r));
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    const line = out.split('\n').find((l) => l.includes('"ready"'));
    if (line) onReady(JSON.parse(line) as { connect_s: number });
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-1000)));
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code) => {
      onReady({ connect_s: -1 });
      resolve(
        code === 0 ? (out.split('\n').find((l) => l.includes('"done"')) ?? out) : `exit ${code}: ${err}`,
      );
    }),
  );
  return {
    pid: child.pid!,
    ready,
    release: () => {
      child.stdin.end();
      return exited;
    },
  };
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

/**
 * Three `--redis` nodes, `loadersPerNode` loader processes per node (each holds its share of
 * `total` until every loader has opened all of its connections or the deadline passed), then
 * the connections held per node, RSS per connection, and the CPU every process used per
 * connection opened (what limits the ramp on this box).
 */
async function holding(total: number): Promise<void> {
  const NODES = 3;
  const per = Math.ceil(total / NODES);
  const perLoader = Math.ceil(per / loadersPerNode);
  const redis = await startRedis(['--maxmemory-policy', 'noeviction', '--maxclients', '100000']);
  const started: Awaited<ReturnType<typeof startChatServer>>[] = [];
  const loaders: HoldLoader[] = [];
  try {
    for (let i = 0; i < NODES; i++)
      started.push(await startChatServer(true, ['--redis', redis.url, '--msg-rate', '0'], per));
    const nodes = started.map((s) => s.server);
    const before = nodes.map((n) => rssKiB(n.pid) ?? 0);
    log(
      `holding: 3 nodes, ${per} connections each from ${loadersPerNode} loader process(es) of ${perLoader}, ${concurrency} handshakes in flight each\n`,
    );
    const pids = new Map<string, number>(nodes.map((n, i) => [`node ${String.fromCharCode(65 + i)}`, n.pid]));
    pids.set('redis-server', redis.child().pid!);
    const cpu0 = new Map([...pids].map(([label, pid]) => [label, cpuMicros(pid) ?? 0]));
    const busy0 = machineBusyMicros() ?? 0;
    const t0 = Date.now();
    nodes.forEach((n) => {
      for (let k = 0; k < loadersPerNode; k++) loaders.push(holdLoader(n.url, perLoader, concurrency));
    });
    let allReady = false;
    void Promise.all(loaders.map((l) => l.ready)).then(() => (allReady = true));
    // Watch the nodes fill up; the peak is read once every loader has tried all its connections.
    let peak = nodes.map(() => 0);
    let peakRss = before;
    let loaderCpu = 0;
    const loaderCpuNow = () => loaders.reduce((sum, l) => sum + (cpuMicros(l.pid) ?? 0), 0);
    const deadline = t0 + holdMinutes * 60_000;
    let last = 0;
    for (;;) {
      await sleep(5000);
      const now = await Promise.all(nodes.map((n) => connections(n.url)));
      const sum = now.reduce((a, b) => a + Math.max(0, b), 0);
      const s = (Date.now() - t0) / 1000;
      log(`  ${s.toFixed(0)} s: ${now.join(' + ')} = ${sum} (${Math.round((sum - last) / 5)}/s)\n`);
      last = sum;
      if (sum >= peak.reduce((a, b) => a + b, 0)) {
        peak = now;
        peakRss = nodes.map((n) => rssKiB(n.pid) ?? 0);
        loaderCpu = loaderCpuNow();
      }
      if (allReady || Date.now() > deadline) break;
    }
    const rampS = (Date.now() - t0) / 1000;
    const used = new Map([...pids].map(([label, pid]) => [label, (cpuMicros(pid) ?? 0) - cpu0.get(label)!]));
    used.set(`${loaders.length} loaders`, loaderCpuNow());
    const busy = (machineBusyMicros() ?? 0) - busy0;
    const ours = [...used.values()].reduce((a, b) => a + b, 0);
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
      `\n${held.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} connections held across 3 nodes after ${rampS.toFixed(0)} s (${Math.round(held / rampS)}/s); redis-server RSS ${(redisRss / 1024).toFixed(0)} MiB\n`,
    );
    process.stdout.write(
      `\n| process | CPU s during the ramp | CPU ms per connection held |\n|---|---|---|\n`,
    );
    for (const [label, us] of used)
      process.stdout.write(
        `| ${label} | ${(us / 1e6).toFixed(1)} | ${(us / 1000 / Math.max(1, held)).toFixed(2)} |\n`,
      );
    process.stdout.write(
      `| all of these | ${(ours / 1e6).toFixed(1)} | ${(ours / 1000 / Math.max(1, held)).toFixed(2)} |\n` +
        `| everything else on the machine | ${(Math.max(0, busy - ours) / 1e6).toFixed(1)} | |\n` +
        `\nthe machine's 2 cores offered ${(2 * rampS).toFixed(0)} CPU s in the ramp; loaders' CPU at the peak ${(loaderCpu / 1e6).toFixed(1)} s\n`,
    );
    if (killOne) await killAndReap(redis, nodes);
    const outs = await Promise.all(loaders.splice(0).map((l) => l.release()));
    for (const out of outs) log(`  loader: ${out.slice(0, 400)}\n`);
  } finally {
    await Promise.all(loaders.map((l) => l.release()));
    await Promise.all(started.map((s) => s.cleanup()));
    await redis.stop();
  }
}

/**
 * SIGKILLs node C while the others hold their connections, and watches the survivors reap it
 * (in slices): how long until its presence is gone, the longest any client waited for Redis
 * meanwhile, and whether the survivors kept their connections (a lapsed node closes all of its).
 */
async function killAndReap(redis: RedisProcess, nodes: ServerProcess[]): Promise<void> {
  const victim = nodes[2]!;
  const survivors = nodes.slice(0, 2);
  const stats = (await (
    await fetch(victim.url.replace(/^ws/, 'http').replace(/\/ws$/, '/stats'))
  ).json()) as {
    node: string;
    connections: { total: number };
  };
  const id = stats.node;
  const admin = new Redis({ path: redis.socket });
  const probe = probeRedisWaits(redis.socket, 5);
  const before = await Promise.all(survivors.map((n) => connections(n.url)));
  const entries = await admin.scard(`chat:node:${id}:own`);
  const t0 = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  log(`killed node C (${id}: ${stats.connections.total} connections, ${entries} entries to reap)\n`);
  let firstSlice = 0;
  for (;;) {
    await sleep(500);
    const [reaping, left, member] = await Promise.all([
      admin.sismember('chat:reaping', id),
      admin.scard(`chat:node:${id}:reap`),
      admin.sismember('chat:nodes', id),
    ]);
    if (member === 0 && firstSlice === 0) firstSlice = Date.now();
    if (member === 0 && reaping === 0) break;
    if (Date.now() - t0 > 120_000) {
      log(`  not reaped after 120 s (${left} entries left)\n`);
      break;
    }
  }
  const done = Date.now();
  await sleep(3000);
  const after = await Promise.all(survivors.map((n) => connections(n.url)));
  const maxPing = await probe.stop();
  admin.disconnect();
  process.stdout.write(
    `\nnode C SIGKILLed holding ${stats.connections.total.toLocaleString('en-US')} connections (${entries.toLocaleString('en-US')} nicks and presences): ` +
      `reaping began ${((firstSlice - t0) / 1000).toFixed(1)} s after the kill and took ${((done - firstSlice) / 1000).toFixed(1)} s (checked every 0.5 s); ` +
      `longest PING wait meanwhile ${maxPing.toFixed(0)} ms; nodes A and B held ${before.join(' + ')} before and ${after.join(' + ')} 3 s after\n`,
  );
}

process.stdout.write(HEADER);
const rows: Row[] = [];
for (const shape of shapes) {
  for (let i = 0; i < repeat; i++) {
    for (const setup of setups) {
      log(`${shape.name}: ${setup}${repeat > 1 ? ` (run ${i + 1} of ${repeat})` : ''}\n`);
      const r = await run(shape, setup);
      rows.push(r);
      process.stdout.write(row(r));
    }
  }
}
if (rows.length > 0) process.stdout.write(summary(rows));
if (hold > 0) await holding(hold);
