/**
 * Fan-out at everyday and heavy rates: the table of docs/performance.md ("Fan-out at everyday
 * load"), for one build or several side by side, and the saturation point of one 1,000-member room.
 *
 *   npx vite-node bench/fanout.ts                          # the table, this checkout's build
 *   npx vite-node bench/fanout.ts -- --saturation          # the saturation point only
 *   npx vite-node bench/fanout.ts -- --build /tmp/old/bin/chat.js --build bin/chat.js --repeat 2
 *   npx vite-node bench/fanout.ts -- --build "bin/chat.js --max-write-delay 0" --build bin/chat.js
 *
 * Every run is `node <build> bench --json` with the shape's flags, a fresh server (SQLite in a
 * temporary directory, default limits) each time; with several builds the runs of one shape are
 * back to back (build A, build B, build A, ...), so they share the machine's load. A build is the
 * path of a `bin/chat.js`, optionally followed by `chat bench` flags for that build's runs
 * (`--max-write-delay`, `--write-share`, `--write-delay`, `--memory`: passed to its server).
 *
 * The saturation point: one 1,000-member room at rising rates (1,000 x 500, 750, 1,000, ... msgs/s);
 * the largest deliveries/s at which everything was delivered and p99 stayed within 100 ms.
 *
 * Flags: --build (repeatable), --shapes (comma-separated names, default all of the table),
 * --duration S (default 10), --repeat N (default 1), --saturation (only the saturation point),
 * --wait-quiet S (wait up to S s before each run for other processes to go quiet). A benchmark,
 * not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchReport } from '../src/load/report.js';
import { waitQuiet } from '../src/load/proc.js';

interface Shape {
  name: string;
  args: string[];
}

/** The table, plus the ack shape and the 10,000-member room. */
const SHAPES: Shape[] = [
  { name: '300x100', args: ['--clients', '300', '--rate', '100'] },
  { name: '1000x100', args: ['--clients', '1000', '--rate', '100'] },
  { name: '10000x10', args: ['--clients', '10000', '--rate', '10'] },
  { name: '1000x250', args: ['--clients', '1000', '--rate', '250'] },
  { name: '1000x500', args: ['--clients', '1000', '--rate', '500'] },
  { name: 'acks-100x20', args: ['--clients', '2000', '--rooms', '100', '--rate', '5000'] },
];

const SATURATION_RATES = [500, 750, 1000, 1250, 1500, 2000, 2500, 3000];
const SATURATION_P99_MS = 100;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    build: { type: 'string', multiple: true },
    shapes: { type: 'string' },
    duration: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    saturation: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
  },
  allowPositionals: false,
});

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const builds = (values.build ?? [here('../bin/chat.js')]).map((spec) => {
  const [bin, ...serveArgs] = spec.trim().split(/\s+/);
  return { label: spec.trim(), bin: bin!, serveArgs };
});
const duration = Number(values.duration);
const repeat = Number(values.repeat);
const waitQuietS = Number(values['wait-quiet']);
const wanted = values.shapes?.split(',').filter(Boolean);
const shapes = wanted ? SHAPES.filter((s) => wanted.includes(s.name)) : SHAPES;
if (wanted && shapes.length !== wanted.length)
  throw new Error(`--shapes: known shapes are ${SHAPES.map((s) => s.name).join(', ')}`);

const log = (s: string): void => void process.stderr.write(s);

/** One `chat bench --json` run of `build`; stderr (progress) is dropped, failures are thrown. */
function runBench(build: (typeof builds)[number], args: string[]): Promise<BenchReport> {
  // A build's flags go to `chat bench`, which passes the serve ones (--max-write-delay, ...) on.
  const child = spawn(
    process.execPath,
    [build.bin, 'bench', '--json', '--duration', String(duration), ...args, ...build.serveArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-2000)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as BenchReport);
      else reject(new Error(`${build.label} bench ${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

const HEADER =
  '| shape | build | deliveries/s | delivered | server CPU | µs/delivery | writes/delivery | p50 ms | p99 ms | ack p99 ms | loader CPU | other load | RSS B/conn |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';

function row(shape: string, label: string, r: BenchReport): string {
  const s = r.server;
  const delivered = r.expected_deliveries > 0 ? (100 * r.deliveries) / r.expected_deliveries : 100;
  return (
    `| ${shape} | ${label} | ${Math.round(r.deliveries_per_s).toLocaleString('en-US')} | ${delivered.toFixed(1)}% | ${s.cpu_percent ?? '?'}% | ` +
    `${s.cpu_us_per_delivery?.toFixed(2) ?? '?'} | ${s.writes_per_delivery ?? '?'} | ${r.latency_ms.p50.toFixed(1)} | ${r.latency_ms.p99.toFixed(1)} | ` +
    `${r.ack_latency_ms.p99.toFixed(1)} | ${r.loader_cpu_percent}% | ${s.other_cpu_percent ?? '?'}% | ${s.rss_bytes_per_connection?.toLocaleString('en-US') ?? '?'} |\n`
  );
}

async function table(): Promise<void> {
  process.stdout.write(HEADER);
  for (const shape of shapes) {
    for (let i = 0; i < repeat; i++) {
      for (const build of builds) {
        await waitQuiet(waitQuietS);
        log(`${shape.name}: ${build.label} (run ${i + 1} of ${repeat})\n`);
        process.stdout.write(row(shape.name, build.label, await runBench(build, shape.args)));
      }
    }
  }
}

async function saturation(): Promise<void> {
  process.stdout.write(HEADER);
  for (const build of builds) {
    let best: BenchReport | undefined;
    for (const rate of SATURATION_RATES) {
      await waitQuiet(waitQuietS);
      log(`saturation: ${build.label}, 1,000 members x ${rate} msgs/s\n`);
      const r = await runBench(build, ['--clients', '1000', '--rate', String(rate)]);
      process.stdout.write(row(`1000x${rate}`, build.label, r));
      const ok = r.deliveries >= r.expected_deliveries * 0.999 && r.latency_ms.p99 <= SATURATION_P99_MS;
      if (!ok) break;
      best = r;
    }
    process.stdout.write(
      best
        ? `\nsaturation point of ${build.label}: ${Math.round(best.deliveries_per_s).toLocaleString('en-US')} deliveries/s ` +
            `(1,000 x ${best.rate} msgs/s, p99 ${best.latency_ms.p99.toFixed(1)} ms, other load ${best.server.other_cpu_percent ?? '?'}%)\n\n`
        : `\nsaturation point of ${build.label}: below 1,000 x ${SATURATION_RATES[0]} msgs/s (p99 over ${SATURATION_P99_MS} ms)\n\n`,
    );
  }
}

await (values.saturation ? saturation() : table());
