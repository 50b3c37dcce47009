import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/server.js';
import { startTestServer } from '../helpers/test-server.js';
import { tempDir } from '../helpers/chat-process.js';
import { hasTmux, shellQuote, Tmux } from '../helpers/tmux.js';
import { TestClient } from '../helpers/ws-client.js';

/** irssi, a real terminal IRC client (installed by .ci/run), in tmux against the IRC door. */
const hasIrssi = spawnSync('irssi', ['--version'], { stdio: 'ignore' }).status === 0;

describe.runIf(hasTmux() && hasIrssi)('irssi in tmux', () => {
  let server: RunningServer;
  const tmux = new Tmux();
  const home = tempDir('chat-irssi-');
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ ircPort: 0, serverName: 'irc.test' });
  });
  afterAll(async () => {
    tmux.killServer();
    for (const c of clients) c.close();
    await server.close();
    home.remove();
  });

  it('connects, joins #lobby and talks with a WebSocket user both ways, /me and long lines included', async () => {
    const cmd = [
      'irssi',
      `--home=${home.path}`,
      '-c',
      '127.0.0.1',
      '-p',
      String(server.ircPort),
      '-n',
      'irssiuser',
    ];
    tmux.start('irssi', cmd.map(shellQuote).join(' '), 160, 40);
    await tmux.waitFor('irssi', /Welcome to the irc\.test IRC door/, 'the 001 welcome', 20_000);
    tmux.line('irssi', '/join #lobby');
    await tmux.waitFor('irssi', /irssiuser .*has joined #lobby/, 'the join');

    const ws = await TestClient.open(server.url);
    clients.push(ws);
    await ws.request('join', { room_id: 'lobby', user_name: 'webuser' });
    await tmux.waitFor('irssi', /webuser .*has joined #lobby/, 'the WebSocket user joining');
    ws.send('message', { room_id: 'lobby', message: 'hello irssi' });
    await tmux.waitFor('irssi', /<\s*webuser> hello irssi/, 'the WebSocket message');

    tmux.line('irssi', 'hi from irssi');
    await ws.next(
      (m) =>
        m.type === 'message' && m.payload.user_name === 'irssiuser' && m.payload.message === 'hi from irssi',
    );
    tmux.line('irssi', '/me waves');
    await ws.next(
      (m) => m.type === 'message' && m.payload.user_name === 'irssiuser' && m.payload.message === 'waves',
    );

    const long = Array.from({ length: 120 }, (_, i) => `w${i}`).join(' ');
    ws.send('message', { room_id: 'lobby', message: long });
    const screen = await tmux.waitFor('irssi', / w119\s*$/m, 'the end of the long message');
    expect(screen).toMatch(/<\s*webuser> w0 w1 w2/);

    ws.send('dm', { to: 'irssiuser', message: 'a private word' });
    // irssi opens a query window for it (window 3: 1 is the status, 2 #lobby) and flags its activity.
    await tmux.waitFor('irssi', /\[Act: [^\]]*3/, 'activity in the query window');
    tmux.keys('irssi', 'M-3');
    await tmux.waitFor('irssi', /<\s*webuser> a private word/, 'the DM in its query window');
    tmux.line('irssi', '/quit');
    await ws.next((m) => m.type === 'user_left' && m.payload.user_name === 'irssiuser');
  }, 60_000);

  it('room life in irssi: topics both ways, away, a kick from a WebSocket operator, a quit message', async () => {
    const owner = await TestClient.open(server.url);
    clients.push(owner);
    await owner.hello('roomboss');
    expect((await owner.request('register', { password: 'irssi-room-pw' })).type).toBe('registered');
    await owner.request('join', { room_id: 'den' });
    await owner.request('topic', { room_id: 'den', topic: 'welcome to the den' });

    const cmd = [
      'irssi',
      `--home=${home.path}`,
      '-c',
      '127.0.0.1',
      '-p',
      String(server.ircPort),
      '-n',
      'lifer',
    ];
    tmux.start('life', cmd.map(shellQuote).join(' '), 160, 40);
    await tmux.waitFor('life', /Welcome to the irc\.test IRC door/, 'the 001 welcome', 20_000);
    tmux.line('life', '/join #den');
    await tmux.waitFor('life', /Topic for #den: welcome to the den/, 'the topic in the JOIN burst');
    await tmux.waitFor('life', /Topic set by roomboss/, 'who set the topic (333)');

    tmux.line('life', '/topic #den irssi was here');
    await owner.next(
      (m) => m.type === 'message' && m.payload.kind === 'topic' && m.payload.message === 'irssi was here',
    );
    await tmux.waitFor('life', /lifer changed the topic of #den to: irssi was here/, 'its own TOPIC');

    // irssi shows 305/306 in its status window; the server's side says it all.
    tmux.line('life', '/away lunch');
    await owner.next(
      (m) => m.type === 'user_away' && m.payload.user_name === 'lifer' && m.payload.message === 'lunch',
    );
    tmux.line('life', '/away');
    await owner.next(
      (m) => m.type === 'user_away' && m.payload.user_name === 'lifer' && m.payload.message === undefined,
    );

    owner.send('kick', { room_id: 'den', user_name: 'lifer', reason: 'closing time' });
    await tmux.waitFor('life', /lifer was kicked from #den by roomboss \[closing time\]/, 'the KICK');

    tmux.line('life', '/join #den');
    await tmux.waitFor('life', /kicked[\s\S]*has joined #den/, 'the rejoin');
    await owner.next((m) => m.type === 'user_joined' && m.payload.user_name === 'lifer');
    tmux.line('life', '/quit see you tomorrow');
    await owner.next(
      (m) =>
        m.type === 'user_left' && m.payload.user_name === 'lifer' && m.payload.reason === 'see you tomorrow',
    );
  }, 60_000);
});
