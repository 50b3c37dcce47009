/**
 * Issue 4, the TUI side: a real `chat connect` in tmux loses its link (a TCP proxy cuts it and
 * refuses it for a while), messages pass meanwhile, and when it is back they are on screen
 * exactly once and in order. Then the same against a restart of a server that keeps its data.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanConnectCommand, hasTmux, Tmux } from '../helpers/tmux.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'chat.js');
const BUILT = existsSync(join(ROOT, 'dist', 'client', 'main.js'));
const TMUX = hasTmux();

if (!TMUX)
  console.warn(
    'test/e2e/tui-resume.test.ts: skipped, tmux is not installed (CI installs it; locally: apt-get install tmux)',
  );

/** `chat serve` on `port` (0: any) keeping its data in `dataDir`. */
function serve(port: number, dataDir: string): Promise<ChatProcess> {
  // bob pipelines a backlog faster than a person types.
  return spawnChat(['--data-dir', dataDir, '--msg-rate', '0'], { port });
}

/** A bare protocol client (bob, by default) in `room`. */
async function bob(
  port: number,
  room = 'lobby',
  nick = 'bob',
): Promise<{ say(text: string): void; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const inbox: ServerMessage[] = [];
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString()) as ServerMessage));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'hello', payload: { user_name: nick } }));
  ws.send(JSON.stringify({ type: 'join', payload: { room_id: room } }));
  const deadline = Date.now() + 5_000;
  while (!inbox.some((e) => e.type === 'joined')) {
    if (Date.now() > deadline) throw new Error(`${nick} could not join`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    say: (text) => ws.send(JSON.stringify({ type: 'message', payload: { room_id: room, message: text } })),
    close: () => ws.close(),
  };
}

const count = (screen: string, text: string) => screen.split(text).length - 1;

describe.skipIf(!TMUX)('chat connect resumes with since_seq', () => {
  const tmux = new Tmux();
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-tui-resume-'));
  let server: ChatProcess;
  let proxy: TcpProxy;

  beforeAll(async () => {
    if (!BUILT) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = await serve(0, dataDir);
    proxy = await startProxy(server.port);
    const cmd = cleanConnectCommand(BIN, ['--url', `ws://127.0.0.1:${proxy.port}/ws`, '--nick', 'alice']);
    tmux.start('alice', `${cmd}; sleep 600`, 100, 30);
  });

  afterAll(async () => {
    tmux.killServer();
    await proxy?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'shows the messages sent while the link was down exactly once, in order',
    { timeout: 60_000 },
    async () => {
      await tmux.waitFor('alice', /alice \| connected \| #lobby/, 'alice connected');
      let b = await bob(server.port);
      b.say('before the drop');
      await tmux.waitFor('alice', '<bob> before the drop', 'the first message');

      proxy.refuse(true);
      proxy.dropAll();
      await tmux.waitFor('alice', /reconnecting/, 'alice noticing the drop');
      for (let i = 1; i <= 5; i++) b.say(`missed ${i}`);
      tmux.line('alice', 'typed while offline');
      await tmux.waitFor('alice', '<alice> typed while offline', 'the pending line');
      proxy.refuse(false);

      let screen = await tmux.waitFor(
        'alice',
        (s) => s.includes('<bob> missed 5') && /alice \| connected/.test(s),
        'the missed messages',
        20_000,
      );
      const order = ['before the drop', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5'].map((t) =>
        screen.indexOf(`<bob> ${t}`),
      );
      expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
      for (let i = 1; i <= 5; i++) expect(count(screen, `missed ${i}`)).toBe(1);
      expect(count(screen, 'typed while offline')).toBe(1);

      // A restart of a server that keeps its data: seq continues, nothing is shown twice.
      b.close();
      await server.stop();
      await tmux.waitFor('alice', /reconnecting/, 'alice noticing the restart');
      server = await serve(server.port, dataDir);
      await tmux.waitFor('alice', /alice \| connected/, 'alice back', 20_000);
      b = await bob(server.port);
      b.say('after the restart');
      screen = await tmux.waitFor('alice', '<bob> after the restart', 'a message after the restart');
      for (const text of ['before the drop', 'missed 3', 'typed while offline'])
        expect(count(screen, text)).toBe(1);
      expect(screen).not.toContain('without its history');
      b.close();
    },
  );

  it('PgUp past the top loads older history until the start of the room', { timeout: 60_000 }, async () => {
    // Not bob: the server may not have released the previous test's bob yet.
    const b = await bob(server.port, 'archive', 'ben');
    for (let i = 1; i <= 130; i++) b.say(`archived ${i}`);
    tmux.line('alice', '/join archive');
    let screen = await tmux.waitFor(
      'alice',
      (s) => s.includes('<ben> archived 130') && s.includes('#archive>'),
      'the newest page',
    );
    for (let i = 0; i < 30 && !screen.includes('-- start of #archive --'); i++) {
      const before = screen;
      tmux.keys('alice', 'PageUp');
      screen = await tmux.waitFor('alice', (s) => s !== before, 'the screen to move');
    }
    expect(screen).toContain('-- start of #archive --');
    expect(screen).toMatch(/<ben> archived 1\s*\n/);
    // Back to live: the newest message once, nothing lost in between.
    tmux.keys('alice', 'End');
    screen = await tmux.waitFor(
      'alice',
      (s) => s.includes('<ben> archived 130') && !s.includes('below'),
      'live again',
    );
    expect(count(screen, 'archived 130')).toBe(1);
    b.close();
  });

  it(
    'a hung server (SIGSTOP): the lag on screen grows, the link is given up after ~10 s, and it comes back after SIGCONT',
    { timeout: 60_000 },
    async () => {
      await tmux.waitFor('alice', /alice \| connected/, 'alice connected');
      const lagOf = (screen: string) => Number(/lag (\d+) ms/.exec(screen)?.[1] ?? -1);
      const pid = server.child.pid!;
      process.kill(pid, 'SIGSTOP');
      try {
        const stoppedAt = Date.now();
        // The outstanding ping counts up on screen instead of showing the last good figure.
        const first = await tmux.waitFor('alice', (s) => lagOf(s) >= 2_000, 'the lag to pass 2 s', 15_000);
        await tmux.waitFor(
          'alice',
          (s) => lagOf(s) >= lagOf(first) + 1_000,
          'the lag to keep growing',
          15_000,
        );
        await tmux.waitFor('alice', /reconnecting|connecting\.\.\./, 'the link given up', 20_000);
        const lostAfter = Date.now() - stoppedAt;
        expect(lostAfter).toBeGreaterThan(5_000);
        expect(lostAfter).toBeLessThan(16_000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await tmux.waitFor('alice', /alice \| connected/, 'alice back after SIGCONT', 30_000);
      // alice is in #archive since the previous test.
      const b = await bob(server.port, 'archive', 'bea');
      b.say('after the freeze');
      await tmux.waitFor('alice', '<bea> after the freeze', 'a message after the freeze');
      b.close();
    },
  );
});
