import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * `chat serve` flags through the real binary (`npm test` builds dist/ first): a bad value
 * names the flag it came from and exits 2; the limit flags reach the server.
 */
const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));

function serveWith(args: string[]): { status: number | null; stderr: string; stdout: string } {
  // A flag given twice becomes a list; only add --port 0 when the case is not about --port.
  const port = args.includes('--port') ? [] : ['--port', '0'];
  return spawnSync(process.execPath, [BIN, 'serve', ...port, '--memory', ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
}

const children: ChatProcess[] = [];
const clients: TestClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(children.map((c) => c.stop()));
});

describe('chat serve flag errors', () => {
  it.each([
    [['--tcp-port', '70000'], '--tcp-port must be an integer 0-65535, got 70000'],
    [['--tcp-port', '1.5'], '--tcp-port must be an integer 0-65535, got 1.5'],
    [['--port', '65536'], '--port must be an integer 0-65535, got 65536'],
    [['--max-rooms', '-5'], '--max-rooms must be a number >= 0, got -5'],
    [['--rooms-per-minute', '-1'], '--rooms-per-minute must be a number >= 0, got -1'],
    [['--passwords-per-minute', '-1'], '--passwords-per-minute must be a number >= 0, got -1'],
  ])('%j exits 2 and names its flag', (args, message) => {
    const result = serveWith(args);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`chat: ${message}\n`);
    expect(result.stdout).toBe('');
  });

  it.each([
    [['serve', '--port', '1', '--port', '2', '--memory'], '--port'],
    [['connect', '--url', 'ws://127.0.0.1:1/ws', '--url', 'ws://127.0.0.1:2/ws'], '--url'],
  ])('%j: a one-value flag given twice is one line and exit 2, not a stack trace', (args, flag) => {
    const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `chat: The flag ${flag} can only be set once. (chat --help lists the options)\n`,
    );
    expect(result.stdout).toBe('');
  });

  it('lists the abuse limits in --help', () => {
    const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(0);
    for (const flag of [
      '--max-rooms N',
      '--room-burst N',
      '--rooms-per-minute N',
      '--password-burst N',
      '--passwords-per-minute N',
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe('--help and --version after a command', () => {
  it.each([['serve'], ['bench'], ['connect']])(
    'chat %s --help prints the help and exits 0 without starting anything',
    (command) => {
      // Before: `chat serve --help` started a server, and `chat bench --help` ran a 10 s benchmark.
      const result = spawnSync(process.execPath, [BIN, command, '--help'], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Usage');
      expect(result.stdout).toContain(`$ chat ${command}`);
      expect(result.stdout).not.toContain('chat serving on');
    },
  );

  it('chat serve --version prints the version', () => {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--version'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('chat serve limit flags reach the server', () => {
  it('--max-rooms and --room-burst bound room creation', async () => {
    const chat = await spawnChat(['--memory', '--max-rooms', '3', '--room-burst', '1']);
    children.push(chat);
    const open = async (nick: string): Promise<TestClient> => {
      const c = await TestClient.open(chat.url);
      clients.push(c);
      await c.hello(nick);
      return c;
    };
    const a = await open('a');
    expect(await a.request('create_room', { room_id: 'r1' })).toMatchObject({ type: 'room_created' });
    expect(await a.request('create_room', { room_id: 'r2' })).toMatchObject({
      type: 'error',
      payload: { code: 'rate_limited' },
    });
    const b = await open('b');
    expect(await b.request('join', { room_id: 'r2' })).toMatchObject({ type: 'joined' });
    // lobby, r1, r2: the server is full of rooms.
    const c = await open('c');
    expect(await c.request('join', { room_id: 'r3' })).toMatchObject({
      type: 'error',
      payload: { code: 'server_rooms_full' },
    });
  });
});
