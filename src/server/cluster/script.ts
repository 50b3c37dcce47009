import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Every script this process defined, for {@link loadScripts}. */
const defined: LuaScript[] = [];

/**
 * A Lua script run by its SHA1. Loaded ahead by {@link loadScripts}, and on first use (and again
 * after a Redis restart forgot it) by EVAL.
 */
export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
    defined.push(this);
  }

  /**
   * EVALSHA, or EVAL when Redis does not know the script yet. Retrying on NOSCRIPT is safe: a
   * script Redis does not know did not run.
   */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT'))
        return redis.eval(this.source, keys.length, ...keys, ...args);
      throw err;
    }
  }
}

/**
 * SCRIPT LOAD of every script, in one pipeline: run when a command link (re)connects, so calls
 * made together right after (a round of commits, a burst of joins) find their script instead of
 * each getting NOSCRIPT and sending its source again with EVAL (which still covers a race).
 */
export async function loadScripts(redis: Redis): Promise<void> {
  const pipeline = redis.pipeline();
  for (const script of defined) pipeline.script('LOAD', script.source);
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}
