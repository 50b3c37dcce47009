/**
 * Redis memory per retained message: starts a redis-server (as the tests do), commits `N`
 * messages of a typical size to one room through RedisEngine with client_msg_ids, and prints
 * MEMORY USAGE of the room's stream and idempotency set per message.
 * Run: npx vite-node bench/cluster-memory.ts [N] [textChars]
 */
import { RedisEngine } from '../src/server/cluster/redis-engine.js';
import { startRedis } from '../test/helpers/redis-server.js';

const N = Number(process.argv[2] ?? 10_000);
const CHARS = Number(process.argv[3] ?? 60);
const redis = await startRedis();
try {
  const engine = await RedisEngine.open({ url: redis.url, nodeId: 'bench', retain: N });
  await engine.createRoom({ room_id: 'r', room_name: 'r', created_by: 'bench', created_ts: Date.now() }, 0);
  const text = 'x'.repeat(CHARS);
  for (let i = 0; i < N; i += 100) {
    await engine.commit(
      'r',
      Array.from({ length: 100 }, (_, k) => ({
        senderKey: 'alice',
        userName: 'alice',
        text,
        clientMsgId: `c-${i + k}`,
      })),
    );
  }
  const admin = redis.admin();
  const stream = Number(await admin.call('MEMORY', 'USAGE', 'chat:{r:r}:log', 'SAMPLES', '0'));
  const idem = Number(await admin.call('MEMORY', 'USAGE', 'chat:{r:r}:idem', 'SAMPLES', '0'));
  const [sample] = await engine.since('r', 0, 1);
  const json = JSON.stringify(sample).length;
  console.log(`messages ${N}, text ${CHARS} chars, message JSON ${json} bytes`);
  console.log(
    `stream ${(stream / N).toFixed(1)} B/message, idempotency keys ${(idem / N).toFixed(1)} B/message, total ${((stream + idem) / N).toFixed(1)} B/message`,
  );
  await engine.close();
} finally {
  await redis.stop();
}
