/**
 * Issue 6, ws hardening against the real binary: an upgrade request with 2,000 headers, a
 * message fragmented into 200k empty pieces, floods of empty frames and pings from a client
 * that never reads. The server answers or closes cleanly, its memory stays bounded, and other
 * clients keep chatting. Plus, in process: connection churn with hostile frames leaves the heap flat.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/test-server.js';
import { spawnChat, type ChatProcess } from '../helpers/chat-process.js';
import { expectStillChats } from '../helpers/chat-check.js';
import { encodeFrame, rawHttp, RawWs, upgradeRequest } from '../helpers/raw-ws.js';

const wsVersion = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;

let chat: ChatProcess;

function rssMiB(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${chat.child.pid}/status`, 'utf8'))?.[1]) / 1024;
}

async function stats(): Promise<{ slow_consumers_disconnected: number; connections: { total: number } }> {
  return (await (await fetch(`http://127.0.0.1:${chat.port}/stats`)).json()) as never;
}

function expectAlive(): void {
  expect(chat.child.exitCode).toBe(null);
  expect(chat.child.signalCode).toBe(null);
}

beforeAll(async () => {
  chat = await spawnChat(['--memory']);
});

afterAll(async () => {
  await chat?.kill();
});

describe('an upgrade request with 2,000 headers', () => {
  const big = Array.from({ length: 2000 }, (_, i) => `X-Header-${i}: value-${i}`);
  const tiny = Array.from({ length: 2000 }, (_, i) => `${i.toString(36)}:`);

  it('past the 16 KiB header limit is answered 431 and the server stays up', async () => {
    const request = upgradeRequest('/ws', big);
    const { response, ended } = await rawHttp(chat.port, request);
    console.log(
      `ws hardening: upgrade with 2,000 headers (${request.length} bytes): ${JSON.stringify(response.split('\r\n')[0])}, connection ${ended}`,
    );
    expect(response.startsWith('HTTP/1.1 431 ')).toBe(true);
    expect(ended).toBe('closed');
    expectAlive();
    await expectStillChats(chat.url);
  });

  it('under the size limit with the WebSocket headers past maxHeadersCount is refused 400', async () => {
    const request = upgradeRequest('/ws', tiny, true);
    const { response, ended } = await rawHttp(chat.port, request);
    console.log(
      `ws hardening: 2,000 small headers then the upgrade ones (${request.length} bytes): ${JSON.stringify(response.split('\r\n')[0])}, connection ${ended}`,
    );
    expect(response.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(ended).toBe('closed');
    expectAlive();
  });

  it('under the size limit after the WebSocket headers upgrades and chats', async () => {
    const ws = await RawWs.connect(chat.port, { headers: tiny });
    ws.text(JSON.stringify({ type: 'hello', payload: { user_name: `many_headers_${process.pid}` }, ref: 1 }));
    await new Promise<void>(
      (resolve) => (ws.onFrame = () => ws.texts.some((t) => t.includes('"welcome"')) && resolve()),
    );
    console.log(
      `ws hardening: 2,000 small headers after the upgrade ones: 101, then ${JSON.parse(ws.texts[0]!).type}`,
    );
    ws.close();
    await ws.closed;
    expectAlive();
  });
});

describe('floods on one WebSocket', () => {
  it(`closes a message fragmented into 200k empty pieces (1008) with memory bounded while others chat (ws ${wsVersion})`, async () => {
    const [major, minor] = wsVersion.split('.').map(Number) as [number, number];
    expect(major > 8 || (major === 8 && minor >= 21)).toBe(true);
    for (const opcode of [1, 2]) {
      const before = rssMiB();
      const ws = await RawWs.connect(chat.port);
      const frames = [encodeFrame({ opcode, fin: false })];
      const empty = encodeFrame({ opcode: 0, fin: false });
      for (let i = 0; i < 200_000; i++) frames.push(empty);
      const started = performance.now();
      ws.writeMany(frames);
      const [close] = await Promise.all([ws.closed, expectStillChats(chat.url)]);
      const after = rssMiB();
      console.log(
        `ws hardening: ${opcode === 1 ? 'text' : 'binary'} message in 200,000 empty fragments: closed ${close.code} in ${(performance.now() - started).toFixed(0)} ms, server RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`,
      );
      expect(close).toMatchObject({ closeFrame: true, code: 1008 });
      expect(after - before).toBeLessThan(64);
      expectAlive();
    }
    await expectStillChats(chat.url);
  });

  it('cuts a client that sends 200k empty frames and never reads its errors (slow_consumer), memory bounded', async () => {
    const before = rssMiB();
    const cutBefore = (await stats()).slow_consumers_disconnected;
    const ws = await RawWs.connect(chat.port);
    ws.socket.pause();
    const empty = encodeFrame({ opcode: 1 });
    const started = performance.now();
    ws.writeMany(Array.from({ length: 200_000 }, () => empty));
    let cut = cutBefore;
    while (cut === cutBefore && performance.now() - started < 20_000)
      cut = (await stats()).slow_consumers_disconnected;
    const ms = performance.now() - started;
    const after = rssMiB();
    ws.socket.resume();
    await ws.closed;
    console.log(
      `ws hardening: 200,000 empty frames from a client that never reads: cut as slow consumer after ${ms.toFixed(0)} ms, ${ws.bytesIn} bytes of errors had reached it, server RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`,
    );
    expect(cut).toBe(cutBefore + 1);
    expect(after - before).toBeLessThan(64);
    expectAlive();
    await expectStillChats(chat.url);
  });

  it('keeps memory bounded under 200k pings from a client that never reads the pongs', async () => {
    const before = rssMiB();
    const ws = await RawWs.connect(chat.port);
    ws.socket.pause();
    const ping = encodeFrame({ opcode: 9 });
    ws.writeMany(Array.from({ length: 200_000 }, () => ping));
    // While the pongs back up, others are served; the flood is read as fast as it can be.
    await expectStillChats(chat.url);
    await expectStillChats(chat.url);
    const after = rssMiB();
    console.log(
      `ws hardening: 200,000 pings never read: server RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`,
    );
    expect(after - before).toBeLessThan(64);
    ws.destroy();
    expectAlive();
  });
});

describe('connection churn (in process)', () => {
  it('leaves the heap flat after thousands of hostile connections', { timeout: 120_000 }, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapMiB = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed / 1048576;
    };
    const server = await startTestServer();
    const hostile = [
      [
        encodeFrame({ opcode: 2, payload: Buffer.from('{"type":') }),
        encodeFrame({ opcode: 1, payload: Buffer.from([0xc0, 0x80]) }),
      ],
      [
        encodeFrame({
          opcode: 1,
          payload: Buffer.from('{"type":"hello","payload":{"user_name":"churn"},"ref":1}'),
        }),
        encodeFrame({
          opcode: 1,
          payload: Buffer.from('{"type":"join","payload":{"room_id":"churn"},"ref":2}'),
        }),
        encodeFrame({ opcode: 3 }),
      ],
      [
        encodeFrame({ opcode: 1, fin: false }),
        ...Array.from({ length: 17_000 }, () => encodeFrame({ opcode: 0, fin: false })),
      ],
    ];
    const round = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const ws = await RawWs.connect(server.port);
        ws.writeMany(hostile[i % hostile.length]!);
        await ws.closed;
      }
    };
    try {
      await round(1000); // warm up: JIT, pools, lazily built tables
      const start = heapMiB();
      await round(3000);
      const end = heapMiB();
      console.log(
        `ws hardening: 3,000 hostile connections: heap ${start.toFixed(1)} -> ${end.toFixed(1)} MiB after GC, sessions left ${server.hub.snapshot().connections.ws}`,
      );
      // A leak of even 2 KiB per connection would show as 6 MiB.
      expect(end - start).toBeLessThan(4);
    } finally {
      await server.close();
    }
  });
});
