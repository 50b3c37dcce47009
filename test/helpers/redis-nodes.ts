import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { RedisEngine, type RedisEngineOptions } from '../../src/server/cluster/redis-engine.js';
import { startRedis, type RedisProcess } from './redis-server.js';

/** What {@link useRedisNodes} gives a test file. */
export interface RedisNodes {
  /** The file's redis-server (valid inside tests). */
  readonly redis: RedisProcess;
  /** Opens an engine as node `nodeId`; it is closed after the test. */
  node(nodeId: string, options?: Partial<RedisEngineOptions>): Promise<RedisEngine>;
}

/**
 * The cluster tests' shared set-up: one real redis-server per test file, brought back if a test
 * killed it and emptied before each test, and every engine a test opened closed after it.
 */
export function useRedisNodes(): RedisNodes {
  let redis: RedisProcess | undefined;
  let engines: RedisEngine[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    const server = redis!;
    // A fault test may end with the server killed; the next test starts from a running one.
    if (server.child().exitCode !== null || server.child().signalCode !== null) await server.restart();
    await server.admin().flushall();
  });
  afterEach(async () => {
    await Promise.all(engines.map((e) => e.close()));
    engines = [];
  });
  return {
    get redis(): RedisProcess {
      if (redis === undefined) throw new Error('redis-server is started in beforeAll; use it inside tests');
      return redis;
    },
    async node(nodeId, options = {}) {
      const engine = await RedisEngine.open({ url: this.redis.url, nodeId, ...options });
      engines.push(engine);
      return engine;
    },
  };
}
