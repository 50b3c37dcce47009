import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir, type ChatProcess } from '../helpers/chat-process.js';
import { IrcTestClient } from '../helpers/irc-client.js';
import { startRedis } from '../helpers/redis-server.js';

const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

/** Runs `chat account ...` with `stdin` piped in; resolves with its exit code and output. */
function account(
  args: string[],
  stdin = '',
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'account', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

/** Registers from IRC with NICK, USER and maybe PASS; resolves with the first answer: 001, 433 or 464. */
async function tryIrc(port: number, nick: string, pass?: string): Promise<string> {
  const c = await IrcTestClient.connect(port);
  if (pass !== undefined) c.send(`PASS :${pass}`);
  c.send(`NICK ${nick}`);
  c.send('USER u 0 * :u');
  const line = await c.wait(/ (001|433|464) /);
  c.send('QUIT');
  await c.waitClosed();
  return line.split(' ')[1]!;
}

const dir = tempDir('chat-account-');
let server: ChatProcess | undefined;
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('chat account', () => {
  it('manages registered nicks with the server stopped and running; the IRC door honours them at once', async () => {
    const d = ['--data-dir', dir.path];
    // Not running: the database is made.
    expect((await account(['create', 'alice', ...d], 'first-password\n')).code).toBe(0);
    expect((await account(['create', 'alice', ...d], 'another-password\n')).err).toMatch(
      /registered already/,
    );
    expect((await account(['create', 'bob', ...d], 'short\n')).err).toMatch(/8-256 characters/);
    // The password is never taken from the command line.
    expect((await account(['create', 'carol', 'pw-in-argv', ...d])).code).toBe(2);

    server = await spawnChat(['--irc-port', '0', ...d]);
    const port = server.ircPort!;
    expect(await tryIrc(port, 'alice')).toBe('433');
    expect(await tryIrc(port, 'alice', 'wrong-password')).toBe('464');
    expect(await tryIrc(port, 'alice', 'first-password')).toBe('001');

    // Running: the server reads the change with its next password check.
    expect((await account(['passwd', 'alice', ...d], 'second-password\n')).code).toBe(0);
    expect(await tryIrc(port, 'alice', 'first-password')).toBe('464');
    expect(await tryIrc(port, 'alice', 'second-password')).toBe('001');
    expect((await account(['create', 'bob', ...d], 'bobs-password\n')).code).toBe(0);
    expect(await tryIrc(port, 'bob')).toBe('433');
    const list = await account(['list', ...d]);
    expect(list.out).toMatch(/^alice\t\d{4}-.*\nbob\t/);
    expect((await account(['delete', 'bob', ...d])).code).toBe(0);
    expect(await tryIrc(port, 'bob')).toBe('001');
    expect((await account(['delete', 'bob', ...d])).err).toMatch(/not registered/);
    expect((await account(['passwd', 'nobody', ...d], 'whatever-pw\n')).err).toMatch(/not registered/);
  }, 60_000);

  it('refuses a data directory without a database, except to create one', async () => {
    const empty = tempDir('chat-account-empty-');
    try {
      expect((await account(['list', '--data-dir', empty.path])).err).toMatch(/no database/);
    } finally {
      empty.remove();
    }
  });
});

describe('chat account --redis', () => {
  it("manages a cluster's registered nicks in Redis with no node running and with two; every node honours a change at the next login", async () => {
    const redis = await startRedis();
    const nodes: ChatProcess[] = [];
    try {
      const r = ['--redis', redis.url];
      // No node runs: the accounts go straight to Redis.
      expect((await account(['create', 'alice', ...r], 'first-password\n')).code).toBe(0);
      expect((await account(['create', 'ALICE', ...r], 'other-password\n')).err).toMatch(
        /registered already/,
      );
      // CHAT_REDIS_URL does it too, when no --data-dir says otherwise.
      const env = { ...process.env, CHAT_REDIS_URL: redis.url };
      expect((await account(['create', 'bob', ...[]], 'bobs-password\n', env)).code).toBe(0);
      expect((await account(['list', '--data-dir', dir.path, '--redis', redis.url])).code).toBe(2);

      for (let i = 0; i < 2; i++) nodes.push(await spawnChat(['--irc-port', '0', ...r]));
      const [a, b] = nodes as [ChatProcess, ChatProcess];
      expect(await tryIrc(a.ircPort!, 'alice')).toBe('433');
      expect(await tryIrc(b.ircPort!, 'alice', 'first-password')).toBe('001');

      // Nodes running: a new password holds at the next login on either node.
      expect((await account(['passwd', 'alice', ...r], 'second-password\n')).code).toBe(0);
      expect(await tryIrc(a.ircPort!, 'alice', 'first-password')).toBe('464');
      expect(await tryIrc(b.ircPort!, 'alice', 'first-password')).toBe('464');
      expect(await tryIrc(b.ircPort!, 'alice', 'second-password')).toBe('001');
      const list = await account(['list'], '', env);
      expect(list.out).toMatch(/^alice\t\d{4}-.*\nbob\t\d{4}-[^\n]*\n$/);
      // Deleted: the nick is anybody's again, on every node.
      expect(await tryIrc(a.ircPort!, 'bob')).toBe('433');
      expect((await account(['delete', 'bob', ...r])).code).toBe(0);
      expect(await tryIrc(a.ircPort!, 'bob')).toBe('001');
      expect((await account(['delete', 'bob', ...r])).err).toMatch(/not registered/);
      expect((await account(['passwd', 'nobody', ...r], 'whatever-pw\n')).err).toMatch(/not registered/);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  }, 90_000);

  it('says so when Redis cannot be reached', async () => {
    const res = await account(['list', '--redis', 'redis://127.0.0.1:1']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
