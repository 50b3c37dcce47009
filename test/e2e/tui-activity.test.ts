/**
 * Issue 15 end to end: a real `chat serve` and a real `chat connect --config` in tmux. The config
 * brings alice back into 11 rooms; a mention in a room the sidebar cannot show appears in the
 * status bar's activity list, Alt+J then two digits goes there, joins and leaves are written back
 * to the config, and a restart rejoins the remembered rooms with since_seq, so what was said
 * while alice was away is there, once, and counted as activity.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanConnectCommand, hasTmux, shellQuote, Tmux } from '../helpers/tmux.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/client/main.js', import.meta.url)));
const TMUX = hasTmux();

if (!TMUX) console.warn('test/e2e/tui-activity.test.ts: skipped, tmux is not installed');

/** `chat connect --config PATH` in a clean environment; the config names the server and nick. */
function connectCommand(config: string): string {
  const cmd = cleanConnectCommand(BIN, ['--config', config], tmpdir());
  return `cd ${shellQuote(ROOT)} && ${cmd}; echo "chat exited with $?"; sleep 600`;
}

const ROOMS = Array.from({ length: 11 }, (_, i) => `r${i + 2}`);

describe.skipIf(!TMUX)('chat connect --config in tmux: activity, Alt+J, remembered rooms', () => {
  const tmux = new Tmux();
  let server: ChatProcess;
  let bob: TestClient;
  const dir = mkdtempSync(join(tmpdir(), 'chat-tui-activity-'));
  const config = join(dir, 'config.json');

  beforeAll(async () => {
    if (!BUILT) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = await spawnChat(['--memory', '--room-burst', '50']);
    writeFileSync(
      config,
      JSON.stringify({
        server: `ws://127.0.0.1:${server.port}/ws`,
        nick: 'alice',
        rooms: ROOMS,
        bell: false,
      }),
    );
    bob = await TestClient.open(`ws://127.0.0.1:${server.port}/ws`);
    await bob.hello('bob');
  });

  afterAll(async () => {
    bob?.close();
    tmux.killServer();
    await server?.stop();
  });

  it(
    'shows activity it cannot fit, jumps by number, and remembers rooms across a restart',
    { timeout: 90_000 },
    async () => {
      tmux.start('alice', connectCommand(config), 80, 14);
      // lobby (the server's default) first, then the 11 remembered rooms, numbered past 9.
      await tmux.waitFor('alice', /alice \| connected \| #lobby/, 'alice connected');
      await tmux.waitFor('alice', /↓ \d+ more/, 'the sidebar saying more rooms are below');

      const joinedR11 = await bob.request('join', { room_id: 'r11' });
      expect(joinedR11.type).toBe('joined');
      await bob.request('message', { room_id: 'r11', message: 'alice: are you there?' });
      // r11 is conversation 11 (lobby is 1), off the bottom of a 14-row sidebar.
      let screen = await tmux.waitFor('alice', '[Act: 11(1!)]', 'the mention in the hotlist');
      expect(screen).toMatch(/↓ 1 active/);

      tmux.keys('alice', 'M-j', '1', '1');
      screen = await tmux.waitFor('alice', /\| #r11 \(2 users\)/, 'Alt+J 1 1 went to r11');
      expect(screen).toContain('<bob> alice: are you there?');
      expect(screen).toMatch(/11 #r11/);
      expect(screen).not.toContain('[Act:');

      // Joins and leaves go to the config.
      tmux.line('alice', '/join extra');
      await tmux.waitFor('alice', /#extra \(1 user\)/, 'alice in extra');
      tmux.line('alice', '/leave r2');
      await tmux.waitFor(
        'alice',
        (s) =>
          !/#r2\b/.test(
            s
              .split('\n')
              .map((l) => l.split('│')[0])
              .join('\n'),
          ),
        'r2 gone from the sidebar',
      );
      tmux.line('alice', '/quit');
      await tmux.waitFor('alice', 'chat exited with 0', 'alice quit');
      const saved = JSON.parse(readFileSync(config, 'utf8'));
      expect(saved.rooms).toEqual(['lobby', ...ROOMS.filter((r) => r !== 'r2'), 'extra']);
      expect(saved.last_seq.r11).toBe(1);
      // With the history it counts in: the restart below resumes in the same one.
      expect(saved.epochs.r11).toMatch(/^[0-9a-z]+$/);
      expect(saved).toMatchObject({ nick: 'alice', bell: false });

      // While alice is away bob says two more things in r11; she comes back into every room.
      await bob.request('message', { room_id: 'r11', message: 'while you were out' });
      await bob.request('message', { room_id: 'r11', message: 'alice: call me' });
      tmux.killServer();
      const again = new Tmux();
      try {
        again.start('alice', connectCommand(config), 80, 14);
        await again.waitFor('alice', /alice \| connected \| #lobby/, 'alice back');
        // r11 is now conversation 10 (r2 was left); its replay counts as activity with a mention.
        screen = await again.waitFor('alice', '[Act: 10(1!)]', 'the replayed mention in the hotlist');
        again.line('alice', '/window 10');
        await again.waitFor('alice', /\| #r11 \(2 users\)/, '/window 10 went to r11');
        // The replay brought back only what came after the last seq seen; the pane, holding less
        // than a page, then fetched the page before it: the message seen before the restart is
        // there once, as context above the unread marker, not as something new.
        screen = await again.waitFor('alice', 'are you there?', 'the page before the replay, as context');
        expect(screen).toContain('-- unread --');
        expect(screen.match(/are you there\?/g)).toHaveLength(1);
        expect(screen.indexOf('are you there?')).toBeLessThan(screen.indexOf('-- unread --'));
        expect(screen.match(/while you were out/g)).toHaveLength(1);
        expect(screen.indexOf('-- unread --')).toBeLessThan(screen.indexOf('while you were out'));
        expect(screen).toContain('<bob> alice: call me');
      } finally {
        again.killServer();
      }
    },
  );
});
