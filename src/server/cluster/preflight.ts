import type { Redis } from 'ioredis';

/** What the start-up check found. */
export interface RedisDurability {
  /** `appendonly`: yes or no. */
  appendonly: string;
  /** `appendfsync`: always, everysec or no. */
  appendfsync: string;
  /** `maxmemory-policy`. */
  maxmemoryPolicy: string;
  /** redis_version from INFO. */
  version: string;
  /** run_id from INFO: changes whenever redis-server restarts. */
  runId: string;
  /** Human lines for the start-up log: what this setup promises about acknowledged messages. */
  notes: string[];
}

/** Thrown when Redis is set up so that acknowledged messages or seqs could be lost. */
export class RedisSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisSetupError';
  }
}

/** What `appendfsync` promises about an acknowledged message. */
export const FSYNC_PROMISES: Record<string, string> = {
  always:
    'appendfsync always: each reply waits for fdatasync; acknowledged messages survive a Redis crash and a power loss',
  everysec:
    'appendfsync everysec: acknowledged messages reach the OS before the reply and disk within about a second; a power loss (or a Redis crash while a slow fsync holds writes back) can lose up to ~2 s of them',
  no: 'appendfsync no: the OS flushes when it likes (about 30 s); a power loss can lose many acknowledged messages',
};

/**
 * Reads Redis's durability settings and refuses (RedisSetupError) unless `appendonly yes` and
 * `maxmemory-policy noeviction`: without the AOF a restart forgets acknowledged messages, and an
 * evicted room key would restart its seq. `unchecked` (the operator's explicit opt-out) turns the
 * refusal into a note. A Redis that hides CONFIG (managed services often rename it) is refused
 * too unless unchecked, since nothing can be promised about it.
 */
export async function checkRedisDurability(redis: Redis, unchecked = false): Promise<RedisDurability> {
  const info = await redis.info('server');
  const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  const version = field('redis_version');
  const runId = field('run_id');
  let config: Record<string, string>;
  try {
    const pairs = (await redis.call(
      'CONFIG',
      'GET',
      'appendonly',
      'appendfsync',
      'maxmemory-policy',
    )) as string[];
    config = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) config[pairs[i]!] = pairs[i + 1]!;
  } catch (err) {
    if (!unchecked) {
      throw new RedisSetupError(
        `cannot read Redis's settings (CONFIG GET failed: ${(err as Error).message}); make sure appendonly is yes and maxmemory-policy is noeviction, then skip the check explicitly`,
      );
    }
    return {
      appendonly: '?',
      appendfsync: '?',
      maxmemoryPolicy: '?',
      version,
      runId,
      notes: ['Redis settings unknown (CONFIG unavailable); the check was skipped'],
    };
  }
  const appendonly = config.appendonly ?? '?';
  const appendfsync = config.appendfsync ?? '?';
  const maxmemoryPolicy = config['maxmemory-policy'] ?? '?';
  const problems: string[] = [];
  if (appendonly !== 'yes')
    problems.push(
      `appendonly is ${appendonly}, not yes: a Redis restart would forget acknowledged messages and restart seqs`,
    );
  if (maxmemoryPolicy !== 'noeviction')
    problems.push(
      `maxmemory-policy is ${maxmemoryPolicy}, not noeviction: an evicted key would lose messages or restart a room's seq`,
    );
  const notes = [FSYNC_PROMISES[appendfsync] ?? `appendfsync ${appendfsync}`];
  if (problems.length > 0) {
    if (!unchecked)
      throw new RedisSetupError(`Redis is not set up to keep acknowledged messages: ${problems.join('; ')}`);
    notes.push(...problems.map((p) => `check skipped: ${p}`));
  }
  return { appendonly, appendfsync, maxmemoryPolicy, version, runId, notes };
}
