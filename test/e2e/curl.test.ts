import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { TcpTestClient } from '../helpers/tcp-client.js';

/**
 * The three curl commands, run with the real `curl` against the real binary
 * (`node bin/chat.js serve`, built by `npm test`), plus a real `nc` session on the TCP port.
 * Only the address differs from the issue text: a free port instead of localhost:8080.
 */
const run = promisify(execFile);

let chat: ChatProcess;
let base: string;
let tcpPort: number;

beforeAll(async () => {
  chat = await spawnChat(['--tcp-port', '0', '--memory'], { logLevel: 'info' });
  base = `http://127.0.0.1:${chat.port}`;
  tcpPort = chat.tcpPort!;
});
afterAll(async () => {
  await chat?.kill();
});

/** Runs curl -N on the stream and collects its output until `until` appears in it. */
function curlStream(url: string): {
  proc: ChildProcess;
  output(): string;
  waitFor(text: string): Promise<void>;
} {
  const proc = spawn('curl', ['-N', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve();
  });
  return {
    proc,
    output: () => out,
    waitFor: (text) =>
      out.includes(text)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`curl -N never printed ${text}; got ${out}`)),
              10_000,
            );
            waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
          }),
  };
}

describe("the issue's curl commands against chat serve", () => {
  it('POST /post stores the message; curl -N /stream shows it live; /stats counts it; nc sees it', async () => {
    const nc = await TcpTestClient.login(tcpPort, 'ncuser');
    const stream = curlStream(`${base}/stream`);
    await stream.waitFor('event: joined');

    const { stdout } = await run('curl', [
      '-X',
      'POST',
      `${base}/post`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"username":"Alice","content":"Hello from terminal"}',
    ]);
    const stored = JSON.parse(stdout) as Record<string, unknown>;
    expect(stored).toMatchObject({
      room_id: 'lobby',
      seq: 1,
      user_name: 'Alice',
      message: 'Hello from terminal',
    });
    expect(typeof stored.id).toBe('string');

    await stream.waitFor('Hello from terminal');
    stream.proc.kill();
    expect(stream.output()).toMatch(
      /id: 1@[0-9a-z]+\nevent: message\ndata: \{"type":"message","payload":\{[^\n]*"message":"Hello from terminal"\}\}\n\n/,
    );
    await nc.waitLine((l) => /^\[\d\d:\d\d\] #lobby <Alice> Hello from terminal$/.test(l));

    const stats = JSON.parse((await run('curl', [`${base}/stats`])).stdout) as {
      messages: { total: number };
      connections: { tcp: number };
      users: number;
    };
    expect(stats.messages.total).toBe(1);
    expect(stats.connections.tcp).toBe(1);
    expect(stats.users).toBe(1);
    nc.close();
  });

  it('curl shows the error for bad input, with a status', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      `${base}/post`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"username":"Alice"',
    ]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body!)).toMatchObject({ error: 'bad_json' });
  });

  it('serves the browser page from web/ at /', async () => {
    const { stdout } = await run('curl', ['-s', '-i', `${base}/`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(stdout).toMatch(/content-type: text\/html; charset=utf-8/i);
    expect(stdout.toLowerCase()).toContain('<!doctype html>');
  });

  it('a real nc session: nick prompt, a message, /quit', async () => {
    const nc = spawn('nc', ['127.0.0.1', String(tcpPort)], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const seen = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nc never printed ${text}; got ${out}`)), 10_000);
        const check = (): void => {
          if (!out.includes(text)) return;
          clearTimeout(timer);
          nc.stdout!.off('data', check);
          resolve();
        };
        nc.stdout!.on('data', check);
        check();
      });
    nc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    await seen('nick: ');
    nc.stdin!.write('netcat\r\n');
    await seen('*** you joined #lobby');
    nc.stdin!.write('hi from nc\n');
    await seen('<netcat> hi from nc');
    nc.stdin!.write('/quit\n');
    await seen('*** bye');
    // openbsd nc keeps reading stdin after the server closed; end it so nc exits.
    const exited = new Promise((resolve) => nc.once('exit', resolve));
    nc.stdin!.end();
    await exited;
  });

  it('logs a stats line every 5 s at info level', async () => {
    const deadline = Date.now() + 12_000;
    while (!chat.stderr().includes('"msg":"stats"')) {
      if (Date.now() > deadline) throw new Error(`no stats line; stderr: ${chat.stderr()}`);
      await new Promise((resolve) => chat.child.stderr!.once('data', resolve));
    }
    const line = chat
      .stderr()
      .split('\n')
      .find((l) => l.includes('"msg":"stats"'))!;
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      msg: 'stats',
      connections: expect.any(Object),
      msgs_per_s: expect.any(Number),
    });
  });

  it('stops on SIGTERM, telling TCP clients', async () => {
    const nc = await TcpTestClient.login(tcpPort, 'lastone');
    chat.child.kill('SIGTERM');
    await nc.waitLine('*** the server is shutting down');
    await nc.waitClosed();
    const code = await chat.exited;
    expect(code).toBe(0);
  });
});
