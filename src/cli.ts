import meow from 'meow';
import { readFileSync } from 'node:fs';
import { sanitizeText } from './protocol/sanitize.js';
import { CONNECT_DEFAULTS, CONNECT_OPTIONS } from './options/connect.js';
import { SERVE_DEFAULTS as D, SERVE_OPTIONS } from './options/serve.js';
import { helpSections, meowFlags, type FlagValues } from './options/spec.js';
import { parseRedisUrl, REDIS_URL_ENV } from './server/cluster/redis-url.js';
import type { LogLevel } from './server/log.js';
import type { FloodOptions } from './server/transports/irc/flood.js';
import type * as ClientMain from './client/main.js';

/** What the client bundle exports: src/client/main.ts. */
type ClientModule = typeof ClientMain;
import { checkNick } from './protocol/nick.js';

const HELP = `
  Usage
    $ chat serve   [--port 8080] [--host 0.0.0.0] [options]   run the server
    $ chat connect [--port 8080] [--host 127.0.0.1] [--nick NAME] [--url ws://...] [--config PATH]   open the terminal client
    $ chat bench   [--url ws://host:port/ws] [options]         load-test a server (or one it starts)
    $ chat account create|passwd|delete NAME | list [--data-dir DIR | --redis URL]   registered nicks (password from the terminal or stdin)

${helpSections(SERVE_OPTIONS, { 'Server options': 'Serve options' })}

${helpSections(CONNECT_OPTIONS)}

  Bench options (without --url it starts chat serve on 127.0.0.1, SQLite in a temp dir)
    --url URL             load a running server instead (loopback only)
    --clients N           connections to open (hello + join)                default 1000
    --rooms N             rooms they spread over (client i joins room i % N)  default 1
    --publishers N        clients that publish, spread over the rooms      default rate/(0.8 x msg-rate)
    --rate N              msgs/s offered in total (0: connect only)          default 1000
    --duration S          seconds of publishing                               default 10
    --size N              characters per message                              default 100
    --memory              start the server with --memory instead of SQLite
    --msg-rate N          per-connection limit of the server it starts (0 = none); the default
                          publisher count keeps each at 80% of it                default 5
    --write-delay MS, --max-write-delay MS, --write-share PCT   passed to the server it starts
    --irc                 load through the IRC door (the clients speak IRC) instead of WebSocket
    --json                print one JSON object instead of the table

  Examples
    $ npx chat serve --port 8080
    $ npx chat connect --port 8080 --nick alice
    $ npx chat bench --clients 1000 --rate 1000 --duration 10
`;

function fail(message: string): never {
  process.stderr.write(`chat: ${message}\n`);
  process.exit(2);
}

/**
 * meow's own refusals (a flag given twice that takes one value) are thrown, not printed: they
 * end like every other bad flag, one line and exit 2, never a stack trace.
 */
function parseCommandLine<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)} (chat --help lists the options)`);
  }
}

const cli = parseCommandLine(() =>
  meow(HELP, {
    importMeta: import.meta,
    allowUnknownFlags: false,
    flags: {
      ...meowFlags(SERVE_OPTIONS, CONNECT_OPTIONS),
      // chat bench parses its own (src/load/options.ts); the flags it shares with serve are above.
      clients: { type: 'number' },
      rooms: { type: 'number' },
      publishers: { type: 'number' },
      rate: { type: 'number' },
      duration: { type: 'number' },
      size: { type: 'number' },
      json: { type: 'boolean', default: false },
      irc: { type: 'boolean', default: false },
    },
  }),
);

/** meow's values, typed from the option tables they were defined by. */
const flags = cli.flags as unknown as FlagValues<typeof SERVE_OPTIONS> & FlagValues<typeof CONNECT_OPTIONS>;

/**
 * `--irc-flood N`: the steady rate of IRC flood control, per connection (an address
 * gets four times it); 0 turns flood control off (benchmarks, a trusted network).
 */
function ircFloodOf(n: number): Partial<FloodOptions> {
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000) fail(`--irc-flood must be 0-1000000, got ${String(n)}`);
  if (n === 0) {
    const off = Number.MAX_SAFE_INTEGER;
    return { burst: off, perSecond: off, addressBurst: off, addressPerSecond: off, maxLagged: off };
  }
  return { perSecond: n, addressPerSecond: 4 * n };
}

function checkWriteDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 1000) fail(`write delays must be 0-1000 ms, got ${String(ms)}`);
  return ms;
}

/** `--write-share` is a percentage; the server takes a fraction. */
function checkWriteShare(pct: number): number {
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100)
    fail(`--write-share must be a percentage above 0 and at most 100, got ${String(pct)}`);
  return pct / 100;
}

function checkPort(flag: string, port: number | undefined, fallback: number): number {
  const value = port ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    fail(`--${flag} must be an integer 0-65535, got ${String(port)}`);
  return value;
}

/** A token bucket from a burst flag and a per-minute rate flag; rate 0 turns it off. */
function perMinute(
  burstFlag: string,
  burst: number,
  rateFlag: string,
  rate: number,
): { burst: number; perSecond: number } | false {
  const perMin = positive(rateFlag, rate) ?? 0;
  if (perMin === 0) return false;
  return { burst: Math.max(1, positive(burstFlag, burst) ?? 1), perSecond: perMin / 60 };
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value < 0))
    fail(`--${name} must be a number >= 0, got ${String(value)}`);
  return value;
}

function checkHeaderTimeout(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600)
    fail(`--header-timeout must be 1-3600 seconds, got ${String(seconds)}`);
  return seconds;
}

function checkRetain(value: number): number {
  if (!Number.isInteger(value) || value < 1)
    fail(`--retain must be a whole number of messages >= 1, got ${String(value)}`);
  return value;
}

/** A server name goes in every IRC line's source: one word of printable ASCII without `!@:*?,`. */
function checkServerName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(name))
    fail(
      `--server-name must be a host-name-like word (letters, digits, "." and "-"), got ${JSON.stringify(name)}`,
    );
  return name;
}

function readMotd(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .map((l) => sanitizeText(l).slice(0, 400))
      .filter((l, i, all) => l !== '' || i < all.length - 1);
  } catch (err) {
    fail(`cannot read --irc-motd ${path}: ${(err as Error).message}`);
  }
}

function checkNodeLease(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0.5 || seconds > 3600)
    fail(`--node-lease must be 0.5-3600 seconds, got ${String(seconds)}`);
  return Math.round(seconds * 1000);
}

/** `--redis` (or CHAT_REDIS_URL): checked here so a bad URL is a one-line error, not a stack. */
function redisOptions(
  url: string | undefined,
  unchecked: boolean,
): { redis?: string; redisUnchecked?: boolean } {
  if (url === undefined || url === '') return {};
  try {
    parseRedisUrl(url);
  } catch (err) {
    fail(`--redis: ${(err as Error).message}`);
  }
  return { redis: url, redisUnchecked: unchecked };
}

async function serve(): Promise<void> {
  const { startServer } = await import('./server/server.js');
  const { wordFilterFromFile, loadFilterModule } = await import('./server/moderation/filters.js');
  const f = flags;
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) fail('--tls-cert and --tls-key go together');
  // A --redis node keeps nothing locally (docs/cluster.md): a store flag would be silently ignored.
  const redisUrl = f.redis ?? process.env[REDIS_URL_ENV];
  if (redisUrl !== undefined && redisUrl !== '') {
    const local = [f.memory ? '--memory' : undefined, f.dataDir !== undefined ? '--data-dir' : undefined]
      .filter((x) => x !== undefined)
      .join(' and ');
    if (local !== '')
      fail(
        `${local} cannot go with --redis${f.redis === undefined ? ` (${REDIS_URL_ENV} is set)` : ''}: a cluster node keeps no local data; everything is in Redis`,
      );
  }
  const filters = [];
  try {
    if (f.filterWords !== undefined)
      filters.push(wordFilterFromFile(f.filterWords, f.filterMode as 'mask' | 'refuse'));
    if (f.filterModule !== undefined) filters.push(await loadFilterModule(f.filterModule));
  } catch (err) {
    fail(`cannot load filter: ${(err as Error).message}`);
  }
  const msgRate = positive('msg-rate', f.msgRate) ?? D.msgRate;
  const shutdownSeconds = positive('shutdown-timeout', f.shutdownTimeout) ?? D.shutdownTimeout;
  const server = await startServer({
    rateLimit:
      msgRate === 0
        ? false
        : { burst: Math.max(1, positive('msg-burst', f.msgBurst) ?? D.msgBurst), perSecond: msgRate },
    identifyTimeoutMs: (positive('identify-timeout', f.identifyTimeout) ?? D.identifyTimeout) * 1000,
    ...(f.maxRooms !== undefined ? { maxRooms: positive('max-rooms', f.maxRooms)! } : {}),
    roomCreateLimit: perMinute('room-burst', f.roomBurst, 'rooms-per-minute', f.roomsPerMinute),
    roomCreateAddressLimit: perMinute(
      'room-burst-per-ip',
      f.roomBurstPerIp,
      'rooms-per-minute-per-ip',
      f.roomsPerMinutePerIp,
    ),
    roomIdleExpiryMs: (positive('room-idle-expiry', f.roomIdleExpiry) ?? D.roomIdleExpiry) * 60_000,
    readLimit: perMinute(
      'read-burst',
      f.readBurst,
      'reads-per-second',
      (positive('reads-per-second', f.readsPerSecond) ?? 0) * 60,
    ),
    readAddressLimit: perMinute(
      'read-burst-per-ip',
      f.readBurstPerIp,
      'reads-per-second-per-ip',
      (positive('reads-per-second-per-ip', f.readsPerSecondPerIp) ?? 0) * 60,
    ),
    presenceLimit: perMinute('presence-burst', f.presenceBurst, 'presence-per-minute', f.presencePerMinute),
    presenceAddressLimit: perMinute(
      'presence-burst-per-ip',
      f.presenceBurstPerIp,
      'presence-per-minute-per-ip',
      f.presencePerMinutePerIp,
    ),
    passwordLimit: perMinute('password-burst', f.passwordBurst, 'passwords-per-minute', f.passwordsPerMinute),
    filters,
    ...(f.maxClients !== undefined ? { maxClients: positive('max-clients', f.maxClients)! } : {}),
    ...(f.maxPerIp !== undefined ? { maxPerIp: positive('max-per-ip', f.maxPerIp)! } : {}),
    ...(f.connectsPerMinute !== undefined
      ? { connectsPerMinute: positive('connects-per-minute', f.connectsPerMinute)! }
      : {}),
    ...(f.headerTimeout !== undefined
      ? { headersTimeoutMs: checkHeaderTimeout(f.headerTimeout) * 1000 }
      : {}),
    ...(f.limitExempt !== undefined && f.limitExempt.length > 0 ? { limitExempt: f.limitExempt } : {}),
    ...(f.allowOrigin !== undefined ? { allowOrigins: f.allowOrigin } : {}),
    ...operatorsOf(f.operators),
    ...(f.publicUrl !== undefined ? { publicUrl: f.publicUrl } : {}),
    ...(f.tlsCert !== undefined && f.tlsKey !== undefined ? { tlsCert: f.tlsCert, tlsKey: f.tlsKey } : {}),
    port: checkPort('port', f.port, D.port),
    ...(f.tcpPort !== undefined ? { tcpPort: checkPort('tcp-port', f.tcpPort, 0) } : {}),
    ...(f.ircPort !== undefined ? { ircPort: checkPort('irc-port', f.ircPort, 0) } : {}),
    ...(f.ircTlsPort !== undefined ? { ircTlsPort: checkPort('irc-tls-port', f.ircTlsPort, 0) } : {}),
    ...(f.serverName !== undefined ? { serverName: checkServerName(f.serverName) } : {}),
    ...(f.ircMotd !== undefined ? { ircMotd: readMotd(f.ircMotd) } : {}),
    ...(f.ircFlood !== undefined ? { ircFlood: ircFloodOf(f.ircFlood) } : {}),
    host: f.host ?? D.host,
    memory: f.memory,
    ...redisOptions(f.redis ?? process.env[REDIS_URL_ENV], f.redisUnchecked),
    nodeLeaseMs: checkNodeLease(f.nodeLease),
    skipDbCheck: f.skipDbCheck,
    synchronous: f.sync as 'normal' | 'full',
    logLevel: f.logLevel as LogLevel,
    compression: f.compression,
    ...(f.writeDelay !== undefined ? { writeDelayMs: checkWriteDelay(f.writeDelay) } : {}),
    ...(f.maxWriteDelay !== undefined ? { maxWriteDelayMs: checkWriteDelay(f.maxWriteDelay) } : {}),
    ...(f.writeShare !== undefined ? { writeShare: checkWriteShare(f.writeShare) } : {}),
    ...(f.defaultRoom !== undefined ? { defaultRoom: f.defaultRoom } : {}),
    ...(f.dataDir !== undefined ? { dataDir: f.dataDir } : {}),
    ...(f.retain !== undefined ? { retainPerRoom: checkRetain(f.retain) } : {}),
    ...(f.maxQueueBytes !== undefined ? { maxQueueBytes: f.maxQueueBytes } : {}),
    ...(f.maxRoomsPerUser !== undefined ? { maxRoomsPerUser: f.maxRoomsPerUser } : {}),
    ...(f.maxMembersPerRoom !== undefined ? { maxMembersPerRoom: f.maxMembersPerRoom } : {}),
  });
  let stopping = false;
  /** Stops serving (clients get `shutdown`, stores close) and exits with `code`. */
  const stop = (signal: string, code = 0): void => {
    if (stopping) {
      process.stderr.write(`chat: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    const limit = setTimeout(() => {
      server.log.error({ signal }, `shutdown took longer than ${f.shutdownTimeout} s; exiting`);
      process.exit(1);
    }, shutdownSeconds * 1000);
    limit.unref();
    server.close().then(
      () => process.exit(code),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Before the line below: a script that reads it may signal at once, and a signal that comes
  // before its handler kills the process outright (seen as a flaky exit by SIGTERM under load).
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A bug that escapes every handler still ends the process (its state can no longer be
  // trusted), but as a shutdown: the error goes to the log operators read, not only to stderr,
  // clients are told `shutdown` and reconnect elsewhere or after a restart, and the store closes
  // cleanly. Acknowledged messages are safe either way; exit code 1 tells a supervisor to restart.
  const crash = (err: unknown, origin: string): void => {
    server.log.fatal({ err, origin }, 'crashed: a bug escaped every handler; shutting down');
    if (stopping) process.exit(1);
    stop(origin, 1);
  };
  process.on('uncaughtException', (err) => crash(err, 'uncaughtException'));
  process.on('unhandledRejection', (err) => crash(err, 'unhandledRejection'));
  // Tests and scripts parse this line for the port; keep its shape.
  process.stdout.write(`chat serving on ${server.httpUrl} (WebSocket ${server.url})\n`);
  const shownHost = server.host.includes(':') ? `[${server.host}]` : server.host;
  if (server.tcpPort !== undefined) process.stdout.write(`chat tcp on ${shownHost}:${server.tcpPort}\n`);
  if (server.ircPort !== undefined) process.stdout.write(`chat irc on ${shownHost}:${server.ircPort}\n`);
  if (server.ircTlsPort !== undefined)
    process.stdout.write(`chat ircs on ${shownHost}:${server.ircTlsPort}\n`);
}

/**
 * The terminal client, from the one-file bundle the build writes (scripts/bundle-client.mjs):
 * loading Ink and React file by file took about half of `chat connect`'s start-up.
 */
async function loadClient(): Promise<ClientModule> {
  const bundle = new URL('./client/connect.bundle.js', import.meta.url);
  try {
    return (await import(bundle.href)) as ClientModule;
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String(err).includes('connect.bundle')
    )
      throw new Error('the terminal client is not built; run `npm run build` (npm install does)', {
        cause: err,
      });
    throw err;
  }
}

async function connect(): Promise<void> {
  const f = flags;
  const host = f.host ?? CONNECT_DEFAULTS.host;
  // No --url, --host or --port: the config file's server (or the default) decides.
  const url =
    f.url ??
    (f.host !== undefined || f.port !== undefined
      ? `ws://${host.includes(':') ? `[${host}]` : host}:${checkPort('port', f.port, CONNECT_DEFAULTS.port)}/ws`
      : undefined);
  const { runConnect } = await loadClient();
  await runConnect({
    ...(url !== undefined ? { url } : {}),
    ...(f.nick !== undefined ? { nick: f.nick } : {}),
    ...(f.config !== undefined ? { config: f.config } : {}),
  });
}

/**
 * Where `chat account` works: `--redis` (a cluster's Redis), else `--data-dir`, else
 * CHAT_REDIS_URL, else the default data directory. Both flags at once is a mistake, said so.
 */
function accountsAt(): { dataDir: string | undefined } | { redis: string } {
  const f = flags;
  if (f.redis !== undefined && f.dataDir !== undefined)
    fail('chat account: --redis and --data-dir name two different places; give one');
  const url = f.redis ?? (f.dataDir === undefined ? process.env[REDIS_URL_ENV] : undefined);
  if (url === undefined || url === '') return { dataDir: f.dataDir };
  try {
    parseRedisUrl(url);
  } catch (err) {
    fail((err as Error).message);
  }
  return { redis: url };
}

async function main(): Promise<void> {
  const [command, ...rest] = cli.input;
  // meow answers --help/--version only when nothing else is on the line; `chat serve --help`
  // must not start a server.
  const args = process.argv.slice(2);
  if (args.includes('--help')) cli.showHelp(0);
  if (args.includes('--version')) cli.showVersion();
  if (command === 'account') {
    const { runAccount } = await import('./accounts/account-command.js');
    process.exitCode = await runAccount(rest, accountsAt());
    return;
  }
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"; see chat --help`);
  switch (command) {
    case 'serve':
      return serve();
    case 'connect':
      return connect();
    case 'bench': {
      const { runBench } = await import('./load/bench-command.js');
      return runBench(cli.flags);
    }
    case undefined:
      cli.showHelp(0);
      return;
    default:
      fail(`unknown command "${command}"; try chat serve, chat connect, chat bench or chat account`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chat: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/** The server operators from `--operators` (repeatable, comma-separated), else `CHAT_OPERATORS`. */
function operatorsOf(flag: string[] | undefined): { operators?: string[] } {
  const given = flag !== undefined && flag.length > 0 ? flag : [process.env.CHAT_OPERATORS ?? ''];
  const nicks = given
    .flatMap((v) => v.split(','))
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const nick of nicks) {
    const check = checkNick(nick);
    if (!check.ok) fail(`--operators: "${nick}" is not a nick (${check.reason})`);
  }
  return nicks.length > 0 ? { operators: nicks } : {};
}
