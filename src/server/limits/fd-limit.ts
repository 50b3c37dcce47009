import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The process's open-file limit, and where it was read. */
export interface FdLimit {
  /** The soft RLIMIT_NOFILE; undefined when unlimited or unknown. */
  soft: number | undefined;
  source: '/proc/self/limits' | 'ulimit -n' | 'unlimited' | 'unknown';
}

/**
 * Descriptors kept out of the connection budget: stdio, the listeners, SQLite's database, WAL,
 * shared-memory and lock files (twice: the checkpoint worker has its own connection), libuv's
 * own (epoll, eventfds, worker pipes), static files being served, and the sockets being refused
 * (accept-gate.ts MAX_REFUSING).
 */
export const RESERVED_FDS = 128;

/** The ceiling of the default `--max-clients`, whatever the fd limit: a memory bound too. */
export const MAX_CLIENTS_CEILING = 50_000;

/**
 * Reads the soft open-file limit. Node has no API for it; Linux shows it in /proc/self/limits
 * (after Node raised it to the hard limit at start, so it is the one in force), elsewhere a
 * shell's `ulimit -n` inherits it.
 */
export function readFdLimit(procLimits = '/proc/self/limits'): FdLimit {
  try {
    const line = readFileSync(procLimits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return { soft: undefined, source: 'unlimited' };
    const n = Number(soft);
    if (Number.isInteger(n) && n > 0) return { soft: n, source: '/proc/self/limits' };
  } catch {
    // Not Linux (or no /proc): ask a shell.
  }
  try {
    const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).stdout?.trim();
    if (out === 'unlimited') return { soft: undefined, source: 'unlimited' };
    const n = Number(out);
    if (Number.isInteger(n) && n > 0) return { soft: n, source: 'ulimit -n' };
  } catch {
    // No shell either.
  }
  return { soft: undefined, source: 'unknown' };
}

/**
 * The connections a process with `limit` descriptors can hold: the limit less
 * {@link RESERVED_FDS}, less a tenth for whatever else opens files under load, at most
 * {@link MAX_CLIENTS_CEILING}, and never below 1.
 */
export function maxClientsFor(limit: number | undefined): number {
  if (limit === undefined) return MAX_CLIENTS_CEILING;
  return Math.max(1, Math.min(MAX_CLIENTS_CEILING, Math.floor((limit - RESERVED_FDS) * 0.9)));
}
