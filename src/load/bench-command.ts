import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatDialect } from './dialects.js';
import { measureLoad } from './measure.js';
import { DEFAULT_MSG_RATE, parseBenchOptions, sourceAddresses, type BenchOptions } from './options.js';
import { openFileLimit } from './proc.js';
import { ircConnector } from './irc-client.js';
import { rawConnector } from './raw-client.js';
import { formatProgress, formatReport, type BenchReport } from './report.js';
import { CHAT_BIN, startServerProcess, type ServerProcess } from './server-process.js';

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

/**
 * Node flags for the server the bench starts, from `CHAT_BENCH_SERVER_NODE_ARGS` (space-separated), to
 * profile it under load: `--cpu-prof`, `--trace-gc`, `--prof` are refused in NODE_OPTIONS.
 */
function serverNodeArgs(): string[] {
  return (process.env.CHAT_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Starts `chat serve` on a free loopback port, SQLite in a fresh temporary directory unless
 * `memory`, room for `clients` connections. The load comes from several 127.0.0.x source
 * addresses past 20,000 connections: the whole loopback block is exempt from the per-address
 * limits (the server's default exempts 127.0.0.1 and ::1 only).
 */
export async function startChatServer(
  memory: boolean,
  extraArgs: string[] = [],
  clients = 50_000,
  irc = false,
): Promise<{ server: ServerProcess; cleanup(): Promise<void> }> {
  // A --redis node keeps nothing locally and refuses a store flag (bench/cluster.ts starts those).
  const redis = extraArgs.includes('--redis');
  const dir = memory || redis ? undefined : mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const args = [
    CHAT_BIN,
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    ...(redis ? [] : dir ? ['--data-dir', dir] : ['--memory']),
    // Every simulated client connects from this one address: the per-address rates (which
    // loopback is not exempt from) would refuse their joins and rooms, which no real crowd
    // behind one address makes at once.
    ...[
      '--rooms-per-minute-per-ip',
      '0',
      '--reads-per-second-per-ip',
      '0',
      '--presence-per-minute-per-ip',
      '0',
    ],
    '--limit-exempt',
    '127.0.0.0/8',
    '--limit-exempt',
    '::1/128',
    // The default follows the open-file limit and leaves a reserve; the bench checked the limit.
    '--max-clients',
    String(clients + 64),
    // The IRC door, without flood control: the load is one machine's crowd on one address.
    ...(irc ? ['--irc-port', '0', '--irc-flood', '0'] : []),
    ...extraArgs,
  ];
  try {
    const server = await startServerProcess(args, { irc, nodeArgs: serverNodeArgs() });
    return {
      server,
      cleanup: async () => {
        await server.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `chat bench`: load-tests a chat server on this machine (one it starts, or `--url`) and prints
 * connections held, messages sent, deliveries per second, latency percentiles, errors and
 * disconnects; with a server it started, also its CPU per delivery and memory per connection.
 */
export async function runBench(flags: Record<string, unknown>): Promise<void> {
  const o = parseBenchOptions(flags);
  checkFileLimit(o);
  if (o.irc && o.url !== undefined)
    throw new Error('--irc loads a server chat bench starts; leave out --url');
  const started =
    o.url === undefined ? await startChatServer(o.memory, o.serveArgs, o.clients, o.irc) : undefined;
  const stopOnSignal = (): void => {
    void (started?.cleanup() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const url = started?.server.url ?? o.url!;
    const pid = started?.server.pid;
    process.stderr.write(
      `chat bench: ${o.clients} ${o.irc ? 'IRC ' : ''}clients, ${o.rooms} room(s), ${o.publishers} publisher(s), ${o.rate} msgs/s for ${o.durationS} s against ${url}` +
        `${started && o.msgRate !== DEFAULT_MSG_RATE ? ` (started with --msg-rate ${o.msgRate})` : ''}\n`,
    );
    const { result, server } = await measureLoad(
      {
        connector:
          o.irc && started?.server.ircPort !== undefined
            ? ircConnector('127.0.0.1', started.server.ircPort)
            : rawConnector(url, chatDialect),
        clients: o.clients,
        rooms: o.rooms,
        publishers: o.publishers,
        rate: o.rate,
        durationS: o.durationS,
        size: o.size,
        localAddresses: sourceAddresses(new URL(url).hostname, o.clients),
        onProgress: (p) => process.stderr.write(formatProgress(p, o.clients)),
      },
      pid,
    );
    const report: BenchReport = {
      ...result,
      server: {
        url,
        origin: started ? 'started' : 'external',
        ...(o.irc ? { door: 'irc' } : {}),
        ...(started ? { store: o.memory ? 'memory' : 'sqlite', msg_rate: o.msgRate } : {}),
        ...server,
      },
    };
    process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await started?.cleanup();
  }
}
