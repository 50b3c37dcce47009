/**
 * chat against Socket.IO 4 and a bare `ws` broadcast loop, on this machine, with one loader.
 *
 *   npx vite-node bench/compare.ts                       # 1,000 subscribers, 1,000 msgs/s, 10 s; 10k idle
 *   npx vite-node bench/compare.ts -- --subscribers 200 --duration 3 --idle 2000   # a quick run
 *
 * For each server, in a fresh process each time:
 * - fan-out: `--subscribers` clients in one room, `--rate` msgs/s offered for `--duration` s by
 *   `--publishers` of them (default rate/4: chat allows 5 msgs/s per connection by default, and every
 *   server gets the same load). Prints server CPU µs per delivery (utime + stime from
 *   /proc/<pid>/stat over the window / deliveries), deliveries/s, p50/p99 latency.
 * - idle: `--idle` connections (hello + join, 100 per room) and nothing else; RSS delta
 *   (/proc/<pid>/status VmRSS) / connections.
 * Then the ratios chat / Socket.IO. chat runs as `chat serve` with SQLite in a temporary directory
 * (persistence on) and its default limits. Every flag can also be set as BENCH_<NAME> in the
 * environment (BENCH_SUBSCRIBERS=200). On a shared machine `--wait-quiet 300` waits up to 300 s
 * before each phase for the other processes to go quiet; the `other load` column says how well
 * that worked. A benchmark, not a test: it asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Connector } from '../src/load/connector.js';
import { chatDialect, socketioDialect } from '../src/load/dialects.js';
import { measureLoad, type ServerFigures } from '../src/load/measure.js';
import { waitQuiet } from '../src/load/proc.js';
import type { LoadResult } from '../src/load/loader.js';
import { formatProgress } from '../src/load/report.js';
import { rawConnector } from '../src/load/raw-client.js';
import { startChatServer } from '../src/load/bench-command.js';
import { startServerProcess } from '../src/load/server-process.js';
import { socketioClientConnector } from './sio-client.js';

const FLAGS = {
  subscribers: '1000',
  rate: '1000',
  duration: '10',
  publishers: '',
  size: '100',
  idle: '10000',
  servers: 'chat,socketio,bare',
  'sio-client': 'raw',
  'wait-quiet': '0',
  json: '',
} as const;
type Flag = keyof typeof FLAGS;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])),
  allowPositionals: false,
});
const flag = (name: Flag): string =>
  values[name] ?? process.env[`BENCH_${name.toUpperCase().replace('-', '_')}`] ?? FLAGS[name];
const num = (name: Flag): number => {
  const v = Number(flag(name));
  if (!Number.isFinite(v) || v < 0)
    throw new Error(`--${name} must be a non-negative number, got ${flag(name)}`);
  return v;
};

const subscribers = num('subscribers');
const rate = num('rate');
const duration = num('duration');
const publishers =
  flag('publishers') === '' ? Math.min(subscribers, Math.max(1, Math.ceil(rate / 4))) : num('publishers');
const size = num('size');
const idle = num('idle');
const servers = flag('servers').split(',').filter(Boolean) as Kind[];
const realSioClient = flag('sio-client') === 'real';
const waitQuietS = num('wait-quiet');
const json = flag('json') !== '' && flag('json') !== '0' && flag('json') !== 'false';

type Kind = 'chat' | 'socketio' | 'bare';
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

interface Kit {
  label: string;
  start(): Promise<{ pid: number; url: string; stop(): Promise<void> }>;
  connector(url: string): Connector;
}

const KITS: Record<Kind, Kit> = {
  chat: {
    label: 'chat (SQLite)',
    async start() {
      // The same server `chat bench` starts: SQLite in a temporary directory, removed on stop.
      const { server, cleanup } = await startChatServer(false, [], Math.max(subscribers, idle));
      return { ...server, stop: cleanup };
    },
    connector: (url) => rawConnector(url, chatDialect),
  },
  socketio: {
    label: 'Socket.IO 4',
    start: () => startServerProcess([here('./servers/socketio.mjs'), '0', '127.0.0.1']),
    connector: (url) => (realSioClient ? socketioClientConnector(url) : rawConnector(url, socketioDialect)),
  },
  bare: {
    label: 'bare ws',
    start: () => startServerProcess([here('./servers/bare-ws.mjs'), '0', '127.0.0.1']),
    connector: (url) => rawConnector(url, chatDialect),
  },
};

interface Row {
  kind: Kind;
  label: string;
  fanout?: { result: LoadResult; server: ServerFigures };
  idle?: { result: LoadResult; server: ServerFigures };
}

const log = (s: string): void => void process.stderr.write(s);

async function fanout(kit: Kit): Promise<Row['fanout']> {
  await waitQuiet(waitQuietS);
  const server = await kit.start();
  try {
    log(
      `${kit.label}: fan-out, ${subscribers} subscribers in one room, ${publishers} publishers, ${rate} msgs/s for ${duration} s\n`,
    );
    return await measureLoad(
      {
        connector: kit.connector(server.url),
        clients: subscribers,
        rooms: 1,
        publishers,
        rate,
        durationS: duration,
        size,
        onProgress: (p) => log(formatProgress(p, subscribers)),
      },
      server.pid,
    );
  } finally {
    await server.stop();
  }
}

async function idleRun(kit: Kit): Promise<Row['idle']> {
  await waitQuiet(waitQuietS);
  const server = await kit.start();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    log(`${kit.label}: ${idle} idle connections, 100 per room\n`);
    return await measureLoad(
      {
        connector: kit.connector(server.url),
        clients: idle,
        rooms: Math.max(1, Math.ceil(idle / 100)),
        publishers: 0,
        rate: 0,
        durationS: 0,
        size,
        onProgress: (p) => log(formatProgress(p, idle)),
      },
      server.pid,
      2000,
    );
  } finally {
    await server.stop();
  }
}

const rows: Row[] = [];
for (const kind of servers) {
  const kit = KITS[kind];
  if (!kit) throw new Error(`unknown server "${kind}" (chat, socketio, bare)`);
  const row: Row = { kind, label: kit.label };
  if (subscribers > 0 && rate > 0) row.fanout = await fanout(kit);
  if (idle > 0) row.idle = await idleRun(kit);
  rows.push(row);
}

// ---- report ----
const fix = (n: number | undefined, d = 2): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d);
const int = (n: number | undefined): string =>
  n === undefined ? '-' : Math.round(n).toLocaleString('en-US');
const kib = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1024).toFixed(1));

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  date: new Date().toISOString(),
  kernel: (() => {
    try {
      return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
    } catch {
      return 'unknown';
    }
  })(),
};

if (json) {
  process.stdout.write(
    `${JSON.stringify({ machine, subscribers, rate, duration, publishers, size, idle, sio_client: realSioClient ? 'real' : 'raw', rows })}\n`,
  );
} else {
  const header = [
    'server',
    'CPU µs/delivery',
    'writes/delivery',
    'deliveries/s',
    'delivered',
    'p50 ms',
    'p99 ms',
    'server CPU',
    'loader CPU',
    'other load',
    `RSS/idle conn KiB`,
    'errors',
  ];
  const table = rows.map((r) => {
    const f = r.fanout;
    const delivered =
      f && f.result.expected_deliveries > 0
        ? `${((100 * f.result.deliveries) / f.result.expected_deliveries).toFixed(1)}%`
        : '-';
    const errs =
      (f?.result.errors ?? 0) +
      (f?.result.connections.disconnects ?? 0) +
      (f?.result.connections.failed ?? 0) +
      (r.idle?.result.connections.failed ?? 0);
    return [
      r.label,
      fix(f?.server.cpu_us_per_delivery),
      fix(f?.server.writes_per_delivery),
      int(f?.result.deliveries_per_s),
      delivered,
      fix(f?.result.latency_ms.p50, 1),
      fix(f?.result.latency_ms.p99, 1),
      f?.server.cpu_percent === undefined ? '-' : `${f.server.cpu_percent}%`,
      f === undefined ? '-' : `${f.result.loader_cpu_percent}%`,
      f?.server.other_cpu_percent === undefined ? '-' : `${f.server.other_cpu_percent}%`,
      kib(r.idle?.server.rss_bytes_per_connection),
      String(errs),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out: string[] = [];
  out.push(
    `machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Linux ${machine.kernel}, ${machine.date}`,
  );
  out.push(
    `fan-out: ${subscribers} subscribers in one room, ${rate} msgs/s offered by ${publishers} publishers for ${duration} s, ${size}-char messages; idle: ${idle} connections; Socket.IO clients: ${realSioClient ? 'socket.io-client' : 'raw loader (same wire format)'}`,
  );
  out.push('');
  out.push(line(header));
  for (const row of table) out.push(line(row));
  const chat = rows.find((r) => r.kind === 'chat');
  const sio = rows.find((r) => r.kind === 'socketio');
  if (chat && sio) {
    const ratio = (a: number | undefined, b: number | undefined): string =>
      a === undefined || b === undefined || b === 0
        ? '-'
        : a / b >= 0.1
          ? (a / b).toFixed(2)
          : (a / b).toPrecision(2);
    out.push('');
    out.push(
      `chat / Socket.IO: CPU per delivery ${ratio(chat.fanout?.server.cpu_us_per_delivery, sio.fanout?.server.cpu_us_per_delivery)}, ` +
        `deliveries/s ${ratio(chat.fanout?.result.deliveries_per_s, sio.fanout?.result.deliveries_per_s)}, ` +
        `p50 ${ratio(chat.fanout?.result.latency_ms.p50, sio.fanout?.result.latency_ms.p50)}, ` +
        `p99 ${ratio(chat.fanout?.result.latency_ms.p99, sio.fanout?.result.latency_ms.p99)}, ` +
        `RSS per idle connection ${ratio(chat.idle?.server.rss_bytes_per_connection, sio.idle?.server.rss_bytes_per_connection)}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
