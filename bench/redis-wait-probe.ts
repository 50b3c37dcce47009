import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * Another client's PINGs to the redis-server at `socket`, one after another (`gapMs` apart),
 * while something else runs: the longest wait for a PONG is how long Redis was held (by a Lua
 * script that blocks it, such as a reap). `stop()` ends the probe and resolves that wait in ms.
 */
export function probeRedisWaits(socket: string, gapMs = 0): { stop(): Promise<number> } {
  const pinger = new Redis({ path: socket });
  let pinging = true;
  let longest = 0;
  const pings = (async () => {
    while (pinging) {
      const t = performance.now();
      await pinger.ping();
      longest = Math.max(longest, performance.now() - t);
      if (gapMs > 0) await sleep(gapMs);
    }
  })();
  return {
    async stop() {
      pinging = false;
      await pings;
      pinger.disconnect();
      return longest;
    },
  };
}
