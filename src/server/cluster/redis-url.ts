import type { RedisOptions } from 'ioredis';

/** Where a node's Redis is, as parsed from `--redis` / `CHAT_REDIS_URL`. */
export interface RedisTarget {
  /** ioredis connection fields only (host/port/path, tls, auth, db); behaviour options are added by connect.ts. */
  options: Pick<RedisOptions, 'host' | 'port' | 'path' | 'tls' | 'username' | 'password' | 'db'>;
  /** The target with any password replaced by `***`, safe to log and to put in errors. */
  display: string;
}

/** The environment variable read when no `--redis` is given. */
export const REDIS_URL_ENV = 'CHAT_REDIS_URL';

/**
 * Parses the forms `--redis` accepts:
 * - `redis://[user[:password]@]host[:port][/db]` (port 6379 by default)
 * - `rediss://...` (the same over TLS, certificates verified against the system CAs)
 * - `unix:///path/to/redis.sock[?db=N&password=P]` or a bare absolute path `/path/to/redis.sock`
 * Throws an Error with a clear message for anything else; the message never contains a password.
 */
export function parseRedisUrl(input: string): RedisTarget {
  const text = input.trim();
  if (text.startsWith('/')) return { options: { path: text }, display: `unix:${text}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      `--redis: "${redact(text)}" is not a URL; use redis://host:port, rediss://host:port, unix:///path or /path`,
    );
  }
  const auth = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
  switch (url.protocol) {
    case 'unix:': {
      const path = decodeURIComponent(url.pathname);
      if (!path.startsWith('/'))
        throw new Error(`--redis: a unix URL needs an absolute socket path (unix:///path/to/redis.sock)`);
      const password = url.searchParams.get('password') ?? undefined;
      return {
        options: {
          path,
          ...(password !== undefined ? { password } : {}),
          ...dbOf(url.searchParams.get('db')),
        },
        display: `unix:${path}`,
      };
    }
    case 'redis:':
    case 'rediss:': {
      if (!url.hostname) throw new Error(`--redis: ${url.protocol}// needs a host`);
      const port = url.port ? Number(url.port) : 6379;
      const db = url.pathname.replace(/^\//, '');
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      return {
        options: {
          host,
          port,
          ...auth,
          ...dbOf(db === '' ? null : db),
          ...(url.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
        },
        display: `${url.protocol}//${url.password ? `${url.username}:***@` : url.username ? `${url.username}@` : ''}${url.host}${url.pathname === '/' ? '' : url.pathname}`,
      };
    }
    default:
      throw new Error(
        `--redis: unsupported scheme "${url.protocol}"; use redis://, rediss://, unix:// or an absolute socket path`,
      );
  }
}

function dbOf(value: string | null): { db?: number } {
  if (value === null) return {};
  if (!/^\d{1,5}$/.test(value)) throw new Error(`--redis: database "${value}" is not a number`);
  return { db: Number(value) };
}

/** Hides a password in something that failed to parse. */
function redact(text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
