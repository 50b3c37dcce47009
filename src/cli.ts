import meow from 'meow';
import { LOG_LEVELS, type LogLevel } from './server/log.js';

const HELP = `
  Usage
    $ chat serve   [--port 8080] [--host 0.0.0.0] [options]   run the server
    $ chat connect [--port 8080] [--host 127.0.0.1] [--nick NAME] [--url ws://...]   open the terminal client
    $ chat bench   [--url ws://host:port/ws] [options]         load-test a server (or one it starts)

  Serve options
    --port N              WebSocket + HTTP port (0 picks a free one)          default 8080
    --host H              address to listen on                                default 0.0.0.0
    --default-room ID     the room everybody starts in                        default lobby
    --data-dir DIR        where history is kept      default $XDG_DATA_HOME/chat or ~/.local/share/chat
    --memory              keep nothing on disk
    --sync normal|full    SQLite synchronous mode (full survives power loss)  default normal
    --log-level LEVEL     ${LOG_LEVELS.join('|')}                default info
    --compression         permessage-deflate for WebSocket clients           default off
    --max-queue-bytes N   outbound bytes queued per client before it is cut  default 1048576
    --max-rooms-per-user N                                                    default 100
    --max-members-per-room N                                                  default 100000

  Connect options
    --port N, --host H    server to connect to                                default 127.0.0.1:8080
    --url URL             full WebSocket URL instead of host and port
    --nick NAME           your nick                                           default $USER

  Examples
    $ npx chat serve --port 8080
    $ npx chat connect --port 8080 --nick alice
`;

const cli = meow(HELP, {
  importMeta: import.meta,
  allowUnknownFlags: false,
  flags: {
    port: { type: 'number' },
    host: { type: 'string' },
    defaultRoom: { type: 'string' },
    dataDir: { type: 'string' },
    memory: { type: 'boolean', default: false },
    sync: { type: 'string', default: 'normal', choices: ['normal', 'full'] },
    logLevel: { type: 'string', default: 'info', choices: [...LOG_LEVELS] },
    compression: { type: 'boolean', default: false },
    maxQueueBytes: { type: 'number' },
    maxRoomsPerUser: { type: 'number' },
    maxMembersPerRoom: { type: 'number' },
    url: { type: 'string' },
    nick: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`chat: ${message}\n`);
  process.exit(2);
}

function checkPort(port: number | undefined, fallback: number): number {
  const value = port ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > 65535) fail(`--port must be an integer 0-65535, got ${String(port)}`);
  return value;
}

async function serve(): Promise<void> {
  const { startServer } = await import('./server/server.js');
  const f = cli.flags;
  const server = await startServer({
    port: checkPort(f.port, 8080),
    host: f.host ?? '0.0.0.0',
    memory: f.memory,
    synchronous: f.sync as 'normal' | 'full',
    logLevel: f.logLevel as LogLevel,
    compression: f.compression,
    ...(f.defaultRoom !== undefined ? { defaultRoom: f.defaultRoom } : {}),
    ...(f.dataDir !== undefined ? { dataDir: f.dataDir } : {}),
    ...(f.maxQueueBytes !== undefined ? { maxQueueBytes: f.maxQueueBytes } : {}),
    ...(f.maxRoomsPerUser !== undefined ? { maxRoomsPerUser: f.maxRoomsPerUser } : {}),
    ...(f.maxMembersPerRoom !== undefined ? { maxMembersPerRoom: f.maxMembersPerRoom } : {}),
  });
  // Tests and scripts parse this line for the port; keep its shape.
  process.stdout.write(`chat serving on ${server.httpUrl} (WebSocket ${server.url})\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`chat: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function connect(): Promise<void> {
  const f = cli.flags;
  const host = f.host ?? '127.0.0.1';
  const url = f.url ?? `ws://${host.includes(':') ? `[${host}]` : host}:${checkPort(f.port, 8080)}/ws`;
  const nick = f.nick ?? process.env.USER ?? process.env.USERNAME ?? 'guest';
  // TODO(issue 3): a literal import once src/client/main.ts has landed.
  const clientModule = './client/main.js' as string;
  const { runConnect } = (await import(clientModule)) as { runConnect(o: { url: string; nick: string }): Promise<void> };
  await runConnect({ url, nick });
}

async function main(): Promise<void> {
  const [command, ...rest] = cli.input;
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"; see chat --help`);
  switch (command) {
    case 'serve':
      return serve();
    case 'connect':
      return connect();
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
