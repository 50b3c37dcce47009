/**
 * The floor of one socket write: what a server pays per member per message when every message
 * of a room leaves in its own write (issue 16's 10,000 members x 10 msgs/s: 100,000 writes/s).
 *
 *   npx vite-node bench/write-floor.ts
 *   npx vite-node bench/write-floor.ts -- --conns 1000,10000 --rate 100000 --duration 5
 *
 * This process accepts N loopback TCP connections from a child process (the reader, which reads
 * and drops everything, bench/write-floor-reader.mjs) and then writes one ~150 B frame (the size
 * of a `message` event) to each connection per round, at `--rate` writes per second in all (so
 * rounds of N writes at rate / N rounds per second), for `--duration` seconds per way of writing.
 * It prints the writer's user and system CPU per write (process.cpuUsage over the window) and
 * what that rate of writes costs in % of a core, per way of writing:
 *
 * - `write`: `socket.write(frame)`, Nagle off (as the HTTP server's sockets, where WebSockets live);
 * - `write, Nagle on`: the same after `setNoDelay(false)`;
 * - `cork, write, uncork`: what a corked door (TCP line, SSE) does per flush;
 * - `3 frames per write`: one write of three frames (what the pacing makes of a busy room's writes);
 * - `handle.writeBuffer`: the stream bypassed, one `WriteWrap` and the libuv write straight from
 *   JS (Node internals, for the measurement only): the floor under Node's stream machinery.
 *
 * A benchmark, not a test: it asserts nothing. Needs `ulimit -n` above 2 N + 100 (both ends here).
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMicros } from '../src/load/proc.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    conns: { type: 'string', default: '1000,10000' },
    rate: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '5' },
    ways: { type: 'string' },
  },
});

const counts = values.conns.split(',').map(Number);
const rate = Number(values.rate);
const durationMs = Number(values.duration) * 1000;
const log = (s: string): void => void process.stderr.write(s);

/** ~150 B, like a `message` event in a WebSocket frame. */
const FRAME = Buffer.from(
  `\x81\x7e\x00\x92${JSON.stringify({
    type: 'message',
    payload: {
      room_id: 'bench',
      seq: 123456,
      id: '01JDXQ8Z5M7V3K2N4P6R8T0W2Y',
      ts: 1732760000000,
      user_name: 'loader-42',
      message: 'hello world',
    },
  }).padEnd(146, ' ')}`,
);
const TRIPLE = Buffer.concat([FRAME, FRAME, FRAME]);

interface StreamHandle {
  writeBuffer(req: object, data: Buffer): number;
}
// Node's own request object for a stream write (lib/internal/stream_base_commons.js makes one per write).
const { WriteWrap } = (
  process as unknown as { binding(name: string): { WriteWrap: new () => Record<string, unknown> } }
).binding('stream_wrap');
const onWriteDone = (): void => {};

/** One way of writing `frame` to a socket. */
interface Way {
  name: string;
  noDelay: boolean;
  write(socket: Socket): void;
}

const WAYS: Way[] = [
  { name: 'write', noDelay: true, write: (s) => void s.write(FRAME) },
  { name: 'write, Nagle on', noDelay: false, write: (s) => void s.write(FRAME) },
  {
    name: 'cork, write, uncork',
    noDelay: true,
    write: (s) => {
      s.cork();
      s.write(FRAME);
      s.uncork();
    },
  },
  { name: '3 frames per write', noDelay: true, write: (s) => void s.write(TRIPLE) },
  {
    name: 'handle.writeBuffer',
    noDelay: true,
    write: (s) => {
      const handle = (s as unknown as { _handle: StreamHandle })._handle;
      const req = new WriteWrap();
      req.handle = handle;
      req.oncomplete = onWriteDone;
      req.async = false;
      req.bytes = 0;
      req.buffer = null;
      handle.writeBuffer(req, FRAME);
    },
  },
];
const ways = values.ways ? WAYS.filter((w) => values.ways!.split(',').includes(w.name)) : WAYS;

interface Row {
  conns: number;
  way: string;
  writesPerS: number;
  userUs: number;
  sysUs: number;
  cpuPct: number;
  readerPct: number;
}

/** N connections from a fresh reader process; resolves once all are accepted. */
async function connectReader(n: number): Promise<{ sockets: Socket[]; stop(): Promise<void>; pid: number }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  const port = (server.address() as { port: number }).port;
  const reader = spawn(
    process.execPath,
    [fileURLToPath(new URL('./write-floor-reader.mjs', import.meta.url)), String(port), String(n)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    reader.once('exit', (code) => reject(new Error(`reader exited with ${code}`)));
    reader.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  while (sockets.length < n) await new Promise((r) => setTimeout(r, 10));
  return {
    sockets,
    pid: reader.pid!,
    stop: async () => {
      for (const s of sockets) s.destroy();
      reader.stdin.end();
      await new Promise((r) => reader.once('exit', r));
      await new Promise((r) => server.close(r));
    },
  };
}

/** Rounds of one write per socket, `rate` writes/s in all, for `ms`; CPU of both processes. */
async function measure(
  sockets: Socket[],
  way: Way,
  readerPid: number,
  ms: number,
): Promise<Omit<Row, 'conns' | 'way'>> {
  for (const s of sockets) s.setNoDelay(way.noDelay);
  const interval = (1000 * sockets.length) / rate;
  const run = async (forMs: number): Promise<number> => {
    const start = performance.now();
    let rounds = 0;
    while (performance.now() - start < forMs) {
      for (const s of sockets) way.write(s);
      rounds++;
      const next = start + rounds * interval;
      // Wait for the next round, letting the event loop run (completions, the reader's acks).
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    return rounds * sockets.length;
  };
  await run(Math.min(1000, ms / 4)); // warm-up: JIT, socket buffers
  const cpu0 = process.cpuUsage();
  const reader0 = cpuMicros(readerPid) ?? 0;
  const t0 = performance.now();
  const writes = await run(ms);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const reader = (cpuMicros(readerPid) ?? 0) - reader0;
  return {
    writesPerS: (writes * 1000) / elapsedMs,
    userUs: cpu.user / writes,
    sysUs: cpu.system / writes,
    cpuPct: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    readerPct: (reader / 1000 / elapsedMs) * 100,
  };
}

const rows: Row[] = [];
for (const n of counts) {
  log(`${n} connections... `);
  const reader = await connectReader(n);
  log('open\n');
  for (const way of ways) {
    log(`  ${way.name}... `);
    const r = await measure(reader.sockets, way, reader.pid, durationMs);
    rows.push({ conns: n, way: way.name, ...r });
    log(`${(r.userUs + r.sysUs).toFixed(2)} µs/write, ${r.cpuPct.toFixed(0)}% of a core\n`);
  }
  await reader.stop();
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
console.log(
  `\n| connections | way | writes/s | user µs/write | sys µs/write | µs/write | writer CPU | reader CPU |\n| --- | --- | --- | --- | --- | --- | --- | --- |`,
);
for (const r of rows) {
  console.log(
    `| ${r.conns.toLocaleString('en')} | ${r.way} | ${Math.round(r.writesPerS).toLocaleString('en')} | ${fmt(r.userUs)} | ${fmt(r.sysUs)} | ${fmt(r.userUs + r.sysUs)} | ${fmt(r.cpuPct, 0)}% | ${fmt(r.readerPct, 0)}% |`,
  );
}
console.log(
  `\nAt ${rate.toLocaleString('en')} writes/s, a floor of F µs per write is F x ${rate / 10_000}% of a core (40% of a core: ${(0.4e6 / rate).toFixed(1)} µs per write).`,
);
