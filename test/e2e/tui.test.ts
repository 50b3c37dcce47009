/**
 * Issue 3 end to end: a real `chat serve` and two real `chat connect` in tmux. alice and bob
 * chat in lobby, join a second room, switch by keys, watch unread counts, DM each other, then the
 * server restarts on the same port and both clients reconnect by themselves.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanConnectCommand, hasTmux, shellQuote, sidebarRow, Tmux } from '../helpers/tmux.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/client/main.js', import.meta.url)));
const TMUX = hasTmux();

if (!TMUX)
  console.warn(
    'test/e2e/tui.test.ts: skipped, tmux is not installed (CI installs it; locally: apt-get install tmux)',
  );

/** The client in a clean environment (see cleanConnectCommand). */
function connectCommand(port: number, nick: string): string {
  const cmd = cleanConnectCommand(BIN, ['--port', String(port), '--nick', nick]);
  // After the client exits, say how, and keep the pane open so the test can read the screen.
  return `cd ${shellQuote(ROOT)} && ${cmd}; echo "chat exited with $?"; sleep 600`;
}

describe.skipIf(!TMUX)('chat connect in tmux, against chat serve', () => {
  const tmux = new Tmux();
  let server: ChatProcess;

  beforeAll(async () => {
    if (!BUILT) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    server = await spawnChat(['--memory']);
    tmux.start('alice', connectCommand(server.port, 'alice'));
    tmux.start('bob', connectCommand(server.port, 'bob'));
  });

  afterAll(async () => {
    tmux.killServer();
    await server?.stop();
  });

  it(
    'two people chat across rooms and DMs with the keyboard, and survive a server restart',
    { timeout: 90_000 },
    async () => {
      let screen: string;
      // Both are in lobby and see each other.
      await tmux.waitFor(
        'alice',
        /alice \| connected \| #lobby \(2 users\)/,
        'alice connected with bob in lobby',
      );
      await tmux.waitFor('bob', /bob \| connected \| #lobby/, 'bob connected');

      tmux.line('alice', 'hello from alice');
      await tmux.waitFor('bob', '<alice> hello from alice', "alice's message at bob");
      tmux.line('bob', 'hi alice, bob here');
      await tmux.waitFor('alice', '<bob> hi alice, bob here', "bob's reply at alice");

      // Readline keys: Delete removes the character under the cursor (not the one before it),
      // Ctrl+K kills to the end and Ctrl+Y yanks it back.
      tmux.type('alice', 'hexllo there');
      await tmux.waitFor('alice', '#lobby> hexllo there', 'the typed line');
      tmux.keys('alice', 'C-a', 'Right', 'Right', 'DC', 'M-f', 'C-k');
      await tmux.waitFor('alice', (s) => /#lobby> hello\s*$/m.test(s), 'Delete and Ctrl+K applied');
      tmux.keys('alice', 'C-y', 'Enter');
      await tmux.waitFor('bob', '<alice> hello there', 'the edited line at bob');

      // A bracketed paste of five lines is not sent unasked; Enter sends it as one message.
      tmux.paste('alice', 'p1\np2\np3\np4\np5\n');
      await tmux.waitFor('alice', 'pasted 5 lines, not sent yet', 'the paste notice');
      expect(tmux.capture('bob')).not.toContain('<alice> p1');
      tmux.keys('alice', 'Enter');
      screen = await tmux.waitFor('bob', '<alice> p1', 'the pasted message at bob');
      expect(screen).toMatch(/p5/);

      // A second room: both join; /join switches to it at once, so a line typed straight after
      // it (before the server's answer) goes to dev, not to lobby.
      tmux.line('alice', '/join dev');
      tmux.line('alice', 'first words in dev');
      await tmux.waitFor('alice', /#dev \(1 user\)/, 'alice in dev');
      tmux.line('bob', '/join dev');
      screen = await tmux.waitFor('bob', '<alice> first words in dev', 'the line in dev history at bob');
      tmux.keys('bob', 'M-1');
      // The input line is drawn beside Ink (input-overlay.ts), so its prompt can name #lobby a
      // moment before Ink has redrawn the pane: wait for the pane too.
      screen = await tmux.waitFor(
        'bob',
        (s) => s.includes('#lobby>') && !s.includes('first words in dev'),
        'bob looking at lobby, its pane redrawn',
      );
      expect(screen).not.toContain('first words in dev');
      tmux.keys('bob', 'M-2');
      await tmux.waitFor('bob', '#dev>', 'bob in dev');
      await tmux.waitFor('alice', /#dev \(2 users\)/, 'bob counted in dev');

      // alice goes back to lobby by key; bob talks in dev: an unread count, then a mention.
      tmux.keys('alice', 'C-p');
      await tmux.waitFor('alice', '#lobby>', 'alice back in lobby (Ctrl+P)');
      tmux.line('bob', 'dev news');
      await tmux.waitFor('alice', (s) => /^2 #dev +1$/.test(sidebarRow(s, '#dev')), 'an unread count on dev');
      tmux.line('bob', 'alice: look at this');
      screen = await tmux.waitFor(
        'alice',
        (s) => /^2 #dev +2!$/.test(sidebarRow(s, '#dev')),
        'a mention marker on dev',
      );
      expect(screen).not.toContain('dev news');

      // Alt+2 jumps to dev: the messages are there and the count is gone.
      tmux.keys('alice', 'M-2');
      screen = await tmux.waitFor(
        'alice',
        (s) => s.includes('<bob> alice: look at this') && sidebarRow(s, '#dev') === '2 #dev',
        'dev read',
      );
      expect(screen).toContain('<bob> dev news');
      tmux.keys('alice', 'C-n');
      await tmux.waitFor('alice', '#lobby>', 'Ctrl+N wraps around to lobby');

      // DMs both ways.
      tmux.line('alice', '/msg bob psst, a secret');
      await tmux.waitFor('alice', '@bob>', "alice's DM window");
      screen = await tmux.waitFor(
        'bob',
        (s) => /^3 @alice +1!$/.test(sidebarRow(s, '@alice')),
        "the DM marker at bob's",
      );
      tmux.keys('bob', 'M-3');
      await tmux.waitFor('bob', '<alice> psst, a secret', 'the DM at bob');
      tmux.line('bob', 'secret received');
      await tmux.waitFor('alice', '<bob> secret received', 'the DM reply at alice');

      // The server restarts on the same port; both clients notice and come back by themselves.
      const port = server.port;
      await server.stop();
      await tmux.waitFor('alice', /reconnecting|server: /, 'alice noticing the drop');
      server = await spawnChat(['--memory'], { port });
      await tmux.waitFor('alice', /alice \| connected \|/, 'alice reconnected', 20_000);
      await tmux.waitFor('bob', /bob \| connected \|/, 'bob reconnected', 20_000);

      // Rooms were rejoined: lobby chat works again, both ways.
      tmux.keys('alice', 'M-1');
      tmux.keys('bob', 'M-1');
      await tmux.waitFor('alice', /#lobby \(2 users\)/, 'both back in lobby');
      tmux.line('bob', 'back after the restart');
      await tmux.waitFor('alice', '<bob> back after the restart', 'chat after the restart');
      tmux.keys('alice', 'M-2');
      await tmux.waitFor('alice', /#dev \(2 users\)/, 'dev rejoined too');

      // Ctrl+C quits and gives the terminal back (the normal screen, not the chat frame).
      tmux.keys('alice', 'C-c');
      screen = await tmux.waitFor('alice', 'chat exited with 0', 'alice quitting');
      expect(screen).not.toContain('Rooms');
    },
  );

  it(
    'lines typed the moment chat connect starts are sent once it is connected, in order',
    { timeout: 60_000 },
    async () => {
      // Typed straight after the window opens: before Ink is loaded, before the connection is
      // up, before any room is joined. None may vanish; the DM and the room line both arrive.
      tmux.start('carol', connectCommand(server.port, 'carol'));
      tmux.line('carol', 'carol was quick');
      tmux.line('carol', '/msg bob carol says psst');
      await tmux.waitFor('bob', '<carol> carol was quick', "carol's early line at bob");
      await tmux.waitFor(
        'bob',
        (s) => /@carol +1!$/.test(sidebarRow(s, '@carol')),
        "carol's early DM at bob",
      );
      // The prompt is drawn beside Ink and can name @bob a frame before the pane does: wait for
      // the pane itself. The no-room view's own hint ("not in a room yet") is not a refusal.
      const screen = await tmux.waitFor(
        'carol',
        (s) => s.includes('@bob>') && s.includes('<carol> carol says psst'),
        'carol in her DM with bob',
      );
      expect(screen).not.toMatch(/not connected to the server|you are not in a room/);
    },
  );

  it(
    'topic line, nick list (Alt+N) and moderation commands, typed in the TUI',
    { timeout: 90_000 },
    async () => {
      /** The nick list: the column right of the pane's border. */
      const nicks = (screen: string) =>
        screen
          .split('\n')
          .map((row) => row.split('│')[2]?.trim() ?? '')
          .filter((x) => x !== '');
      tmux.start('olga', connectCommand(server.port, 'olga'), 120, 30);
      tmux.start('pete', connectCommand(server.port, 'pete'), 120, 30);
      await tmux.waitFor('olga', /olga \| connected \| #lobby/, 'olga connected');
      await tmux.waitFor('pete', /pete \| connected \| #lobby/, 'pete connected');
      // A registered nick that makes a room owns it: @ in the nick list.
      tmux.line('olga', '/register olga-secret-pw');
      await tmux.waitFor('olga', 'olga is registered', 'olga registered');
      tmux.line('olga', '/join mod');
      await tmux.waitFor('olga', (s) => nicks(s).join(' ') === '@olga', 'olga as owner in the nick list');
      tmux.line('pete', '/join mod');
      await tmux.waitFor('olga', (s) => nicks(s).join(' ') === '@olga pete', 'pete in the nick list');

      // /voice from the TUI: the role shows in both nick lists, the change is said in the room.
      tmux.line('olga', '/voice pete');
      await tmux.waitFor('pete', (s) => nicks(s).join(' ') === '@olga +pete', '+pete at pete');
      await tmux.waitFor('olga', 'olga gave pete voice', 'the voice notice');

      // The topic: a line at the top, cut with … when longer than the terminal, never wrapped.
      const long = `release on friday, ${'then the long tail of the plan '.repeat(6)}end`;
      tmux.line('olga', `/topic ${long}`);
      let screen = await tmux.waitFor(
        'pete',
        (s) => s.split('\n')[0]!.startsWith('#mod: release on friday'),
        'the topic line at pete',
      );
      const top = screen.split('\n')[0]!.trimEnd();
      expect(top.endsWith('…')).toBe(true);
      expect(top).not.toContain(' end');
      expect(screen.split('\n')[1]).toMatch(/Rooms/);

      // A command refused by the server answers where it was typed.
      tmux.line('pete', '/mode +m');
      await tmux.waitFor('pete', /not_operator|not an operator/, 'the refusal at pete');

      // Alt+N hides the nick list, Alt+N again shows it.
      tmux.keys('olga', 'M-n');
      await tmux.waitFor('olga', (s) => nicks(s).length === 0 && /#mod>/.test(s), 'the nick list hidden');
      tmux.keys('olga', 'M-n');
      await tmux.waitFor('olga', (s) => nicks(s).join(' ') === '@olga +pete', 'the nick list back');

      // /kick: pete is told, and leaves olga's nick list.
      tmux.line('olga', '/kick pete enough');
      await tmux.waitFor('pete', 'you were kicked from #mod by olga (enough)', 'the kick at pete');
      screen = await tmux.waitFor('olga', (s) => nicks(s).join(' ') === '@olga', 'pete gone from the list');
      expect(screen).toContain('pete was kicked from #mod by olga (enough)');
    },
  );
});
