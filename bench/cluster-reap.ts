/**
 * How long reaping a dead node holds Redis (issue 13): a node of N sessions (each a nick and a
 * presence in one of N/50 rooms) dies; another node reaps it. Prints, per slice size, how long the
 * reap took, the longest any other client waited for a PING meanwhile (what a lease renewal or a
 * commit waits), and whether a watching node with a short lease kept it.
 * A slice of 1e9 is one script for the whole node: what REAP_NODE did before slices.
 *
 *   npx vite-node bench/cluster-reap.ts -- --sessions 9000 --slices 250,1000000000 --watch-lease 1000
 *
 * A benchmark, not a test: it asserts nothing.
 */
import { parseArgs } from 'node:util';
import { keys } from '../src/server/cluster/keys.js';
import { RedisEngine } from '../src/server/cluster/redis-engine.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { probeRedisWaits } from './redis-wait-probe.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    sessions: { type: 'string', default: '9000' },
    slices: { type: 'string', default: '250,1000000000' },
    'watch-lease': { type: 'string', default: '1000' },
  },
});
const sessions = Number(values.sessions);
const watchLease = Number(values['watch-lease']);
const log = (s: string): void => void process.stderr.write(s);

async function inBatches(n: number, width: number, each: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += width)
    await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => each(i + k)));
}

async function once(slice: number): Promise<string> {
  const redis = await startRedis(['--maxmemory-policy', 'noeviction']);
  const engines: RedisEngine[] = [];
  const open = async (nodeId: string, extra: object = {}) => {
    const e = await RedisEngine.open({ url: redis.url, nodeId, ...extra });
    engines.push(e);
    return e;
  };
  try {
    const rooms = Math.max(1, Math.ceil(sessions / 50));
    const dead = await open('dead');
    await inBatches(rooms, 100, (r) =>
      dead.createRoom({ room_id: `r${r}`, room_name: `r${r}`, created_by: 'x', created_ts: 1 }, 0),
    );
    await inBatches(sessions, 200, async (i) => {
      await dead.claimNick(`u${i}`, { session: `s${i}`, nick: `U${i}`, tokenHash: 'h' });
      await dead.joinPresence(`r${i % rooms}`, `s${i}`, `U${i}`, 0);
    });
    const admin = redis.admin();
    await admin.sadd(keys.nodes, 'dead');
    // A watching node with a short lease, feeding every room (it receives every user_left).
    const lapses: string[] = [];
    const watcher = await open('watch', {
      leaseMs: watchLease,
      reapSlice: slice,
      onError: (_e: unknown, context: string) => {
        if (/lapsed|renewing/.test(context)) lapses.push(context);
      },
    });
    let left = 0;
    let firstAt = 0;
    let lastAt = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    await inBatches(rooms, 100, (r) =>
      watcher.feed(`r${r}`, {
        messages: () => {},
        notice: (n) => {
          if (n.type !== 'user_left') return;
          if (left++ === 0) firstAt = performance.now();
          lastAt = performance.now();
          if (left === sessions) done();
        },
      }),
    );
    // Another client's PINGs, back to back: the longest wait is how long Redis was held.
    const probe = probeRedisWaits(redis.socket);
    await open('reaper', { leaseMs: 10_000, reapSlice: slice });
    await all;
    const maxPing = await probe.stop();
    return `| ${slice >= 1e9 ? 'one script (as before)' : slice.toLocaleString('en-US')} | ${sessions.toLocaleString('en-US')} | ${(lastAt - firstAt).toFixed(0)} | ${maxPing.toFixed(1)} | ${lapses.length} |`;
  } finally {
    for (const e of engines) await e.close().catch(() => {});
    await redis.stop();
  }
}

process.stdout.write(
  `| entries per slice | sessions reaped | reap ms (first to last user_left) | longest PING wait ms | watcher lease (${watchLease} ms) lapses or failed renewals |\n|---|---|---|---|---|\n`,
);
for (const slice of values.slices.split(',').map(Number)) {
  log(`slice ${slice}\n`);
  process.stdout.write(`${await once(slice)}\n`);
}
