import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir, type ChatProcess } from '../helpers/chat-process.js';
import { IrcTestClient } from '../helpers/irc-client.js';

const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

/** Runs `chat account ...` with `stdin` piped in; resolves with its exit code and output. */
function account(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'account', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
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
