import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatDialect } from './dialects.js';
import { runLoad } from './loader.js';
import { parseBenchOptions, sourceAddresses, type BenchOptions } from './options.js';
import { cpuMicros, openFileLimit, rssKiB } from './proc.js';
import { rawConnector } from './raw-client.js';
import { formatProgress, formatReport, type BenchReport, type ServerFigures } from './report.js';
import { CHAT_BIN, startServerProcess, type ServerProcess } from './server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fails early, with the fix, when the connections cannot fit in the open-file limit. */
function checkFileLimit(o: BenchOptions): void {
  const limit = openFileLimit();
  const need = o.clients + 64;
  if (limit === undefined || need <= limit) return;
  throw new Error(
    `--clients ${o.clients} needs about ${need} open files in this process${o.url ? '' : ' and as many in the server it starts'}, ` +
      `but the limit is ${limit} (ulimit -n); raise it or use fewer clients`,
  );
}

/** Starts `chat serve` on a free loopback port, SQLite in a fresh temporary directory unless `memory`. */
async function startChat(memory: boolean): Promise<{ server: ServerProcess; cleanup(): Promise<void> }> {
  const dir = memory ? undefined : mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const args = [
    CHAT_BIN,
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    ...(dir ? ['--data-dir', dir] : ['--memory']),
  ];
  const server = await startServerProcess(args);
  return {
    server,
    cleanup: async () => {
      await server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `chat bench`: load-tests a chat server on this machine (one it starts, or `--url`) and prints
 * connections held, messages sent, deliveries per second, latency percentiles, errors and
 * disconnects; with a server it started, also its CPU per delivery and memory per connection.
 */
export async function runBench(flags: Record<string, unknown>): Promise<void> {
  const o = parseBenchOptions(flags);
  checkFileLimit(o);
  const started = o.url === undefined ? await startChat(o.memory) : undefined;
  const stopOnSignal = (): void => {
    void (started?.cleanup() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const url = started?.server.url ?? o.url!;
    const pid = started?.server.pid;
    const server: ServerFigures = {
      url,
      origin: started ? 'started' : 'external',
      ...(pid ? { pid, store: o.memory ? 'memory' : 'sqlite' } : {}),
    };
    if (pid) {
      await sleep(500);
      server.rss_kib_idle = rssKiB(pid);
    }
    if (!o.json) {
      process.stderr.write(
        `chat bench: ${o.clients} clients, ${o.rooms} room(s), ${o.publishers} publisher(s), ${o.rate} msgs/s for ${o.durationS} s against ${url}\n`,
      );
    }
    let cpu0 = 0;
    let wall0 = 0;
    const result = await runLoad({
      connector: rawConnector(url, chatDialect),
      clients: o.clients,
      rooms: o.rooms,
      publishers: o.publishers,
      rate: o.rate,
      durationS: o.durationS,
      size: o.size,
      localAddresses: sourceAddresses(new URL(url).hostname, o.clients),
      onProgress: (p) => process.stderr.write(formatProgress(p, o.clients)),
      onReady: () => {
        if (!pid) return;
        server.rss_kib_connected = rssKiB(pid);
        cpu0 = cpuMicros(pid) ?? 0;
        wall0 = performance.now();
      },
      onDone: () => {
        if (!pid) return;
        server.cpu_us = (cpuMicros(pid) ?? 0) - cpu0;
        const wallMs = performance.now() - wall0;
        server.cpu_percent = wallMs > 0 ? Math.round((server.cpu_us / 1000 / wallMs) * 100) : 0;
        server.rss_kib_end = rssKiB(pid);
      },
    });
    if (pid) {
      if (
        server.rss_kib_idle !== undefined &&
        server.rss_kib_connected !== undefined &&
        result.connections.held > 0
      ) {
        server.rss_bytes_per_connection = Math.round(
          ((server.rss_kib_connected - server.rss_kib_idle) * 1024) / result.connections.held,
        );
      }
      if (server.cpu_us !== undefined && result.deliveries > 0)
        server.cpu_us_per_delivery = Math.round((server.cpu_us / result.deliveries) * 1000) / 1000;
    }
    const report: BenchReport = { ...result, server };
    process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await started?.cleanup();
  }
}
