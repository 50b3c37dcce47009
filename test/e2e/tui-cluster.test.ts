/**
 * Issue 13, the terminal client on a cluster: two `chat serve --redis` nodes on one real
 * redis-server, a round-robin balancer (no stickiness) in front. alice's `chat connect` in tmux
 * lands on node A, bob talks from node B; node A is killed (SIGKILL) and alice's client, through
 * the same address, reconnects to node B, keeps her nick (resume token) and shows what she
 * missed exactly once, in order.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { cleanConnectCommand, hasTmux, Tmux } from '../helpers/tmux.js';
import { until } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'chat.js');
const BUILT = existsSync(join(ROOT, 'dist', 'client', 'main.js'));
const TMUX = hasTmux();

if (!TMUX)
  console.warn(
    'test/e2e/tui-cluster.test.ts: skipped, tmux is not installed (CI installs it; locally: apt-get install tmux)',
  );

/** A bare protocol client in the lobby, recording what it receives. */
async function member(port: number, nick: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const inbox: ServerMessage[] = [];
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString()) as ServerMessage));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'hello', payload: { user_name: nick } }));
  ws.send(JSON.stringify({ type: 'join', payload: { room_id: 'lobby' } }));
  const deadline = Date.now() + 5_000;
  while (!inbox.some((e) => e.type === 'joined')) {
    if (Date.now() > deadline) throw new Error(`${nick} could not join`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    inbox,
    say: (text: string) =>
      ws.send(JSON.stringify({ type: 'message', payload: { room_id: 'lobby', message: text } })),
    close: () => ws.close(),
  };
}

const count = (screen: string, text: string) => screen.split(text).length - 1;

describe.skipIf(!TMUX)('chat connect on two nodes', () => {
  const tmux = new Tmux();
  let redis: RedisProcess;
  let a: ChatProcess;
  let b: ChatProcess;
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    if (!BUILT) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    redis = await startRedis();
    a = await spawnChat(['--redis', redis.url, '--msg-rate', '0']);
    b = await spawnChat(['--redis', redis.url, '--msg-rate', '0']);
    // The first link goes to node A.
    proxy = await startRoundRobinProxy([a.port, b.port]);
    const cmd = cleanConnectCommand(BIN, ['--url', `ws://127.0.0.1:${proxy.port}/ws`, '--nick', 'alice']);
    tmux.start('alice', `${cmd}; sleep 600`, 100, 30);
  });

  afterAll(async () => {
    tmux.killServer();
    await proxy?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it(
    'alice on node A and bob on node B talk; node A dies; alice comes back on node B as alice and sees what she missed once',
    { timeout: 60_000 },
    async () => {
      await tmux.waitFor('alice', /alice \| connected \| #lobby/, 'alice connected');
      expect(proxy.perTarget.get(a.port)).toBe(1);
      const bob = await member(b.port, 'bob');
      bob.say('hello from node B');
      await tmux.waitFor('alice', '<bob> hello from node B', 'bob on alice screen');
      tmux.line('alice', 'hello from node A');
      const said = (text: string, nick: string) => () =>
        bob.inbox.some(
          (m) => m.type === 'message' && m.payload.message === text && m.payload.user_name === nick,
        );
      await until(said('hello from node A', 'alice'), 10_000);

      await a.kill();
      for (let i = 1; i <= 3; i++) bob.say(`missed ${i}`);
      const screen = await tmux.waitFor(
        'alice',
        (s) => s.includes('<bob> missed 3') && /alice \| connected/.test(s),
        'alice back on node B with what she missed',
        30_000,
      );
      // She came back through the balancer to node B, under her own nick.
      expect(proxy.perTarget.get(b.port)).toBeGreaterThanOrEqual(1);
      const order = ['hello from node B', 'hello from node A', 'missed 1', 'missed 2', 'missed 3'].map((t) =>
        screen.indexOf(t),
      );
      expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
      for (const t of ['hello from node B', 'hello from node A', 'missed 1', 'missed 2', 'missed 3'])
        expect(count(screen, t)).toBe(1);
      tmux.line('alice', 'back on node B');
      await until(said('back on node B', 'alice'), 10_000);
      bob.close();
    },
  );
});
