import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Debian's redis-server (`.ci/run` installs it). Tests fail, never skip, without it. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** A real redis-server on a unix socket in its own temp dir. */
export interface RedisProcess {
  /** The socket path (also a valid `--redis` value). */
  readonly socket: string;
  /** `unix://<socket>`. */
  readonly url: string;
  /** The data directory (AOF). */
  readonly dir: string;
  /** The running child (changes with restart). */
  child(): ChildProcess;
  /** A plain client for inspecting and poking the server (closed by stop). */
  admin(): Redis;
  /** SIGKILL: a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same socket; `empty` deletes its data first (a lost disk). */
  restart(options?: { empty?: boolean }): Promise<void>;
  /** Stops it for good and removes the directory. */
  stop(): Promise<void>;
}

/** Durable by default, as the cluster needs it: AOF with fsync on every write, no RDB snapshots. */
const DEFAULT_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];

/**
 * Starts `redis-server --port 0 --unixsocket <tmp>/r.sock --dir <tmp> --appendonly yes
 * --appendfsync always --save ''` (plus `args`, which override) and resolves once it printed
 * "ready to accept connections" and answered PING.
 */
export async function startRedis(args: string[] = []): Promise<RedisProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-'));
  const socket = join(dir, 'r.sock');
  let child: ChildProcess = await launch(dir, socket, args);
  // Every redis-server started here leads its own process group (see launch): stop kills them all.
  const groups = [child.pid!];
  const admins: Redis[] = [];
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));
  const proc: RedisProcess = {
    socket,
    url: `unix://${socket}`,
    dir,
    child: () => child,
    admin() {
      // The admin client is for tests: it may queue while the server restarts.
      const redis = new Redis({ path: socket, maxRetriesPerRequest: null });
      redis.on('error', () => {});
      admins.push(redis);
      return redis;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart(options = {}) {
      if (child.exitCode === null && child.signalCode === null) await proc.kill();
      if (options.empty) {
        rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
        rmSync(join(dir, 'dump.rdb'), { force: true });
      }
      child = await launch(dir, socket, args);
      groups.push(child.pid!);
    },
    async stop() {
      for (const a of admins) a.disconnect();
      // The whole process groups, not only the servers: a background AOF rewrite or save is a
      // forked child that goes on writing into the directory after its parent died (CI saw
      // ENOTEMPTY removing it, even with retries), also one left over from a kill() before.
      for (const group of groups) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
      }
      await exited(child);
      rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    },
  };
  return proc;
}

async function launch(dir: string, socket: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      ...DEFAULT_ARGS,
      ...args,
    ],
    // Its own process group, so that stop() can kill the children it forks too.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not get ready in 10 s: ${output}`));
    }, 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${REDIS_SERVER} (install the redis-server package): ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready: ${output}`));
    });
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/i.test(output)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.removeAllListeners('exit');
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  // Drain the log so the pipe never fills.
  child.stdout!.resume();
  const ping = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await ping.connect();
    if ((await ping.ping()) !== 'PONG') throw new Error('redis-server did not answer PING');
  } finally {
    ping.disconnect();
  }
  return child;
}
