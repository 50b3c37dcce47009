import meow from 'meow';
import { LOG_LEVELS, type LogLevel } from './server/log.js';

const HELP = `
  Usage
    $ chat serve   [--port 8080] [--host 0.0.0.0] [options]   run the server
    $ chat connect [--port 8080] [--host 127.0.0.1] [--nick NAME] [--url ws://...] [--config PATH]   open the terminal client
    $ chat bench   [--url ws://host:port/ws] [options]         load-test a server (or one it starts)

  Serve options
    --port N              WebSocket + HTTP port (0 picks a free one)          default 8080
    --host H              address to listen on                                default 0.0.0.0
    --tcp-port N          also serve plain TCP line clients (nc, telnet) on N (0 = a free port)
    --default-room ID     the room everybody starts in                        default lobby
    --data-dir DIR        where history is kept      default $XDG_DATA_HOME/chat or ~/.local/share/chat
    --memory              keep nothing on disk
    --sync normal|full    SQLite synchronous mode (full survives power loss)  default normal
    --retain N            messages kept per room, older ones deleted   default all (memory: 10000)
    --skip-db-check       start without PRAGMA quick_check of chat.db (it reads every page:
                          for huge files); a damaged file is refused otherwise
    --log-level LEVEL     ${LOG_LEVELS.join('|')}                default info
    --compression         permessage-deflate for WebSocket clients           default off
    --write-delay MS      under sustained traffic, write each socket at most every MS ms,
                          batching events into fewer syscalls (trades latency for CPU)  default 0
    --max-write-delay MS  latency budget of the automatic write spacing: when writing takes
                          more than --write-share of the event loop, flushes wait up to
                          MS ms so each write carries more events (0 = off)  default 25
    --write-share PCT     share of the event loop writing may take before spacing starts  default 25
    --max-queue-bytes N   outbound bytes queued per client before it is cut  default 1048576
    --max-rooms-per-user N                                                    default 100
    --max-members-per-room N                                                  default 100000

  Limits and security
    --msg-burst N         messages a connection may send at once              default 10
    --msg-rate N          messages per second after the burst (0 = no limit)  default 5
                          (per connection; POST /post: per address)
    --max-rooms N         rooms the server holds (past it: server_rooms_full)  default 10000
    --room-burst N        new rooms a connection may create at once           default 10
    --rooms-per-minute N  new rooms per connection per minute after the burst (0 = no limit)  default 10
    --room-burst-per-ip N new rooms one address may create at once (loopback too)  default 20
    --rooms-per-minute-per-ip N  new rooms per address per minute (0 = no limit)  default 10
    --room-idle-expiry M  delete a room empty for M minutes, with its history, unless a
                          registered nick created it (0 = never)              default 60
    --read-burst N        reads (history, users, rooms) a connection may make at once  default 20
    --reads-per-second N  reads per connection per second after the burst (0 = no limit)  default 5
    --read-burst-per-ip N reads one address may make at once (loopback too)   default 100
    --reads-per-second-per-ip N  reads per address per second (0 = no limit)  default 20
    --presence-burst N    joins, leaves and nick changes a connection may make at once  default 50
    --presence-per-minute N  of those per connection per minute (0 = no limit)  default 60
    --presence-burst-per-ip N  of those one address may make at once (loopback too)  default 300
    --presence-per-minute-per-ip N  of those per address per minute (0 = no limit)  default 600
    --password-burst N    password checks (hello with a password, register) one address may
                          make at once                                        default 10
    --passwords-per-minute N  password checks per address per minute after the burst
                          (0 = no limit; loopback too)                        default 30
    --max-clients N       connections server-wide, every door (HTTP too)
                          default: what the open-file limit allows (ulimit -n less 128, less 10%),
                          at most 50000; the log says which at start
    --max-per-ip N        open connections per address, HTTP sockets included  default 16
    --connects-per-minute N  new connections per address per minute           default 60
    --limit-exempt CIDR   exempt from per-address limits (repeatable)   default 127.0.0.1 and ::1
    --header-timeout S    close HTTP connections that have not sent a whole request head
                          within S seconds (answered 408)                     default 10
    --allow-origin ORIGIN browser origin allowed besides the server's own (repeatable, * = any)
    --public-url URL      the URL people open (e.g. https://chat.example.com behind a proxy); its
                          origin is the server's own besides the listen address
    --tls-cert FILE       PEM certificate: serve wss:// and https:// (and TLS on --tcp-port)
    --tls-key FILE        PEM private key for --tls-cert
    --identify-timeout S  close connections that send no hello within S seconds   default 30
    --shutdown-timeout S  on SIGINT/SIGTERM, exit within S seconds            default 5
    --filter-words FILE   moderation word list, one per line
    --filter-mode MODE    mask|refuse listed words                            default mask
    --filter-module FILE  an ES module default-exporting a message filter (see docs/moderation.md)

  Connect options
    --port N, --host H    server to connect to                                default 127.0.0.1:8080
    --url URL             full WebSocket URL instead of host and port
    --nick NAME           your nick                                           default $USER
    --config PATH         config file (server, nick, rooms, ignores, bell)    default $XDG_CONFIG_HOME/chat/config.json

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
    --json                print one JSON object instead of the table

  Examples
    $ npx chat serve --port 8080
    $ npx chat connect --port 8080 --nick alice
    $ npx chat bench --clients 1000 --rate 1000 --duration 10
`;

const cli = meow(HELP, {
  importMeta: import.meta,
  allowUnknownFlags: false,
  flags: {
    port: { type: 'number' },
    tcpPort: { type: 'number' },
    host: { type: 'string' },
    defaultRoom: { type: 'string' },
    dataDir: { type: 'string' },
    memory: { type: 'boolean', default: false },
    sync: { type: 'string', default: 'normal', choices: ['normal', 'full'] },
    retain: { type: 'number' },
    skipDbCheck: { type: 'boolean', default: false },
    logLevel: { type: 'string', default: 'info', choices: [...LOG_LEVELS] },
    compression: { type: 'boolean', default: false },
    writeDelay: { type: 'number' },
    maxWriteDelay: { type: 'number' },
    writeShare: { type: 'number' },
    maxQueueBytes: { type: 'number' },
    maxRoomsPerUser: { type: 'number' },
    maxMembersPerRoom: { type: 'number' },
    msgBurst: { type: 'number', default: 10 },
    msgRate: { type: 'number', default: 5 },
    maxRooms: { type: 'number' },
    roomBurst: { type: 'number', default: 10 },
    roomsPerMinute: { type: 'number', default: 10 },
    roomBurstPerIp: { type: 'number', default: 20 },
    roomsPerMinutePerIp: { type: 'number', default: 10 },
    roomIdleExpiry: { type: 'number', default: 60 },
    readBurst: { type: 'number', default: 20 },
    readsPerSecond: { type: 'number', default: 5 },
    readBurstPerIp: { type: 'number', default: 100 },
    readsPerSecondPerIp: { type: 'number', default: 20 },
    presenceBurst: { type: 'number', default: 50 },
    presencePerMinute: { type: 'number', default: 60 },
    presenceBurstPerIp: { type: 'number', default: 300 },
    presencePerMinutePerIp: { type: 'number', default: 600 },
    passwordBurst: { type: 'number', default: 10 },
    passwordsPerMinute: { type: 'number', default: 30 },
    maxClients: { type: 'number' },
    maxPerIp: { type: 'number' },
    connectsPerMinute: { type: 'number' },
    headerTimeout: { type: 'number' },
    limitExempt: { type: 'string', isMultiple: true },
    allowOrigin: { type: 'string', isMultiple: true },
    publicUrl: { type: 'string' },
    tlsCert: { type: 'string' },
    tlsKey: { type: 'string' },
    identifyTimeout: { type: 'number', default: 30 },
    shutdownTimeout: { type: 'number', default: 5 },
    filterWords: { type: 'string' },
    filterMode: { type: 'string', default: 'mask', choices: ['mask', 'refuse'] },
    filterModule: { type: 'string' },
    url: { type: 'string' },
    nick: { type: 'string' },
    config: { type: 'string' },
    clients: { type: 'number' },
    rooms: { type: 'number' },
    publishers: { type: 'number' },
    rate: { type: 'number' },
    duration: { type: 'number' },
    size: { type: 'number' },
    json: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`chat: ${message}\n`);
  process.exit(2);
}

function checkWriteDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > 1000) fail(`write delays must be 0-1000 ms, got ${String(ms)}`);
  return ms;
}

/** `--write-share` is a percentage; the server takes a fraction. */
function checkWriteShare(pct: number): number {
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100) fail(`--write-share must be a percentage above 0 and at most 100, got ${String(pct)}`);
  return pct / 100;
}

function checkPort(flag: string, port: number | undefined, fallback: number): number {
  const value = port ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > 65535) fail(`--${flag} must be an integer 0-65535, got ${String(port)}`);
  return value;
}

/** A token bucket from a burst flag and a per-minute rate flag; rate 0 turns it off. */
function perMinute(burstFlag: string, burst: number, rateFlag: string, rate: number): { burst: number; perSecond: number } | false {
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

async function serve(): Promise<void> {
  const { startServer } = await import('./server/server.js');
  const { wordFilterFromFile, loadFilterModule } = await import('./server/moderation/filters.js');
  const f = cli.flags;
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) fail('--tls-cert and --tls-key go together');
  const filters = [];
  try {
    if (f.filterWords !== undefined)
      filters.push(wordFilterFromFile(f.filterWords, f.filterMode as 'mask' | 'refuse'));
    if (f.filterModule !== undefined) filters.push(await loadFilterModule(f.filterModule));
  } catch (err) {
    fail(`cannot load filter: ${(err as Error).message}`);
  }
  const msgRate = positive('msg-rate', f.msgRate) ?? 5;
  const shutdownSeconds = positive('shutdown-timeout', f.shutdownTimeout) ?? 5;
  const server = await startServer({
    rateLimit:
      msgRate === 0
        ? false
        : { burst: Math.max(1, positive('msg-burst', f.msgBurst) ?? 10), perSecond: msgRate },
    identifyTimeoutMs: (positive('identify-timeout', f.identifyTimeout) ?? 30) * 1000,
    ...(f.maxRooms !== undefined ? { maxRooms: positive('max-rooms', f.maxRooms)! } : {}),
    roomCreateLimit: perMinute('room-burst', f.roomBurst, 'rooms-per-minute', f.roomsPerMinute),
    roomCreateAddressLimit: perMinute('room-burst-per-ip', f.roomBurstPerIp, 'rooms-per-minute-per-ip', f.roomsPerMinutePerIp),
    roomIdleExpiryMs: (positive('room-idle-expiry', f.roomIdleExpiry) ?? 60) * 60_000,
    readLimit: perMinute('read-burst', f.readBurst, 'reads-per-second', (positive('reads-per-second', f.readsPerSecond) ?? 0) * 60),
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
    ...(f.publicUrl !== undefined ? { publicUrl: f.publicUrl } : {}),
    ...(f.tlsCert !== undefined && f.tlsKey !== undefined ? { tlsCert: f.tlsCert, tlsKey: f.tlsKey } : {}),
    port: checkPort('port', f.port, 8080),
    ...(f.tcpPort !== undefined ? { tcpPort: checkPort('tcp-port', f.tcpPort, 0) } : {}),
    host: f.host ?? '0.0.0.0',
    memory: f.memory,
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
  const stop = (signal: string): void => {
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
      () => process.exit(0),
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
  // Tests and scripts parse this line for the port; keep its shape.
  process.stdout.write(`chat serving on ${server.httpUrl} (WebSocket ${server.url})\n`);
  if (server.tcpPort !== undefined) process.stdout.write(`chat tcp on ${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.tcpPort}\n`);
}

async function connect(): Promise<void> {
  const f = cli.flags;
  const host = f.host ?? '127.0.0.1';
  // No --url, --host or --port: the config file's server (or the default) decides.
  const url =
    f.url ??
    (f.host !== undefined || f.port !== undefined
      ? `ws://${host.includes(':') ? `[${host}]` : host}:${checkPort('port', f.port, 8080)}/ws`
      : undefined);
  const { runConnect } = await import('./client/main.js');
  await runConnect({
    ...(url !== undefined ? { url } : {}),
    ...(f.nick !== undefined ? { nick: f.nick } : {}),
    ...(f.config !== undefined ? { config: f.config } : {}),
  });
}

async function main(): Promise<void> {
  const [command, ...rest] = cli.input;
  // meow answers --help/--version only when nothing else is on the line; `chat serve --help`
  // must not start a server.
  const args = process.argv.slice(2);
  if (args.includes('--help')) cli.showHelp(0);
  if (args.includes('--version')) cli.showVersion();
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"; see chat --help`);
  switch (command) {
    case 'serve':
      return serve();
    case 'connect':
      return connect();
    case 'bench': {
      const { runBench } = await import('./bench/cli.js');
      return runBench(cli.flags);
    }
    case undefined:
      cli.showHelp(0);
      return;
    default:
      fail(`unknown command "${command}"; try chat serve, chat connect or chat bench`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chat: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
