import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from '../../../src/protocol/events.js';
import { TestClient } from '../../helpers/ws-client.js';
import { rawSocket, settled, statusLine } from '../../helpers/raw-sockets.js';
import { useTestServers } from '../../helpers/test-server.js';

const { serve, track } = useTestServers();

async function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  return track(await TestClient.open(url, options));
}

/** Resolves with the HTTP status an upgrade attempt was refused with, or 101 if it opened. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => undefined);
  });
}

describe('message rate limit', () => {
  it('a client flooding at 1,000 msgs/s gets burst + rate x time accepted; others still flow', async () => {
    const server = await serve();
    const flooder = await connect(server.url);
    const calm = await connect(server.url);
    const reader = await connect(server.url);
    for (const [c, n] of [
      [flooder, 'flooder'],
      [calm, 'calm'],
      [reader, 'reader'],
    ] as const) {
      await c.hello(n);
      await c.request('join', { room_id: 'lobby' });
    }
    // 2.1 s keeps the expected count off an integer boundary, where timer jitter decides it.
    const seconds = 2.1;
    const started = performance.now();
    let sent = 0;
    let lastSend = started;
    let firstSend = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.floor((performance.now() - started) * 1); // 1 msg per ms
        if (firstSend === 0 && due > 0) firstSend = performance.now();
        while (sent < Math.min(due, seconds * 1000)) {
          flooder.send('message', { room_id: 'lobby', message: `f${sent}` }, `f${sent}`);
          sent++;
        }
        lastSend = performance.now();
        if (sent % 200 === 0) calm.send('message', { room_id: 'lobby', message: `calm${sent}` });
        if (sent >= seconds * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    // The bucket starts full at the first message; it refills over first..last send.
    const elapsed = (lastSend - firstSend) / 1000;
    await flooder.waitCount((m) => typeof m.ref === 'string' && m.ref.startsWith('f'), sent);
    const accepted = flooder.received.filter((m) => m.type === 'message' && typeof m.ref === 'string').length;
    const limited = flooder.received.filter((m) => m.type === 'error' && m.payload.code === 'rate_limited');
    const expected = 10 + 5 * elapsed;
    console.log(
      `flood: sent ${sent} in ${elapsed.toFixed(2)} s, accepted ${accepted}, expected ${expected.toFixed(1)} (burst 10 + 5/s), refused ${limited.length}`,
    );
    expect(Math.abs(accepted - expected)).toBeLessThanOrEqual(1);
    expect(accepted + limited.length).toBe(sent);
    expect((limited[0]!.payload as { retry_after_ms: number }).retry_after_ms).toBeGreaterThan(0);
    // The calm client's messages all went through and the reader saw them.
    const calmSent = calm.received.filter(
      (m) => m.type === 'message' && m.payload.user_name === 'calm',
    ).length;
    expect(calm.received.filter((m) => m.type === 'error')).toEqual([]);
    await reader.waitCount((m) => m.type === 'message' && m.payload.user_name === 'calm', calmSent);
    expect(flooder.closed).toBe(false);
  });
});

describe('identify timeout', () => {
  it('closes a connection that never says hello, and keeps one that did', async () => {
    const server = await serve({ identifyTimeoutMs: 300 });
    const silent = await connect(server.url);
    const polite = await connect(server.url);
    await polite.hello('polite');
    const closed = await silent.closedByServer();
    console.log(`identify timeout: closed with ${closed.code} "${closed.reason}"`);
    expect(closed.code).toBe(4001);
    expect(closed.reason).toMatch(/identify_timeout/);
    expect(await polite.request('ping', null)).toMatchObject({ type: 'pong' });
  });
});

describe('origin checks', () => {
  it('refuses a foreign browser origin, allows the same host, no origin and listed origins', async () => {
    const server = await serve({ allowOrigins: ['https://friend.example'] });
    const host = `127.0.0.1:${server.port}`;
    expect(await upgradeStatus(server.url, { headers: { Origin: 'https://evil.example' } })).toBe(403);
    expect(await upgradeStatus(server.url, { headers: { Origin: `http://${host}` } })).toBe(101);
    expect(await upgradeStatus(server.url)).toBe(101);
    expect(await upgradeStatus(server.url, { headers: { Origin: 'https://friend.example' } })).toBe(101);
  });

  it('does not trust Host: a DNS-rebinding upgrade, https against http and a foreign SSE stream get 403', async () => {
    const server = await serve();
    const rebound = `evil.example:${server.port}`;
    expect(await upgradeStatus(server.url, { headers: { Host: rebound, Origin: `http://${rebound}` } })).toBe(
      403,
    );
    expect(await upgradeStatus(server.url, { headers: { Origin: `https://127.0.0.1:${server.port}` } })).toBe(
      403,
    );
    expect(await upgradeStatus(server.url, { headers: { Origin: `http://localhost:${server.port}` } })).toBe(
      101,
    );
    const stream = await fetch(`${server.httpUrl}/stream`, { headers: { Origin: 'https://evil.example' } });
    expect(stream.status).toBe(403);
    expect(await stream.json()).toMatchObject({ error: 'forbidden_origin' });
  });

  it('--public-url makes the proxy origin the server own, and only it', async () => {
    const server = await serve({ publicUrl: 'https://chat.example.com/' });
    expect(
      await upgradeStatus(server.url, {
        headers: { Host: 'chat.example.com', Origin: 'https://chat.example.com' },
      }),
    ).toBe(101);
    expect(
      await upgradeStatus(server.url, {
        headers: { Host: 'chat.example.com', Origin: 'http://chat.example.com' },
      }),
    ).toBe(403);
    await expect(serve({ publicUrl: 'chat.example.com' })).rejects.toThrow(/not an http/);
  });
});

describe('connection limits', () => {
  it('caps connections per address when loopback is not exempt, and server-wide', async () => {
    const server = await serve({ maxPerIp: 3, limitExempt: [] });
    const open = await Promise.all([0, 1, 2].map(() => connect(server.url)));
    expect(await upgradeStatus(server.url)).toBe(429);
    open[0]!.close();
    await open[0]!.closedByServer().catch(() => undefined);
    // The slot frees once the server has seen the close.
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) status = await upgradeStatus(server.url);
    expect(status).toBe(101);

    const small = await serve({ maxClients: 2 });
    await connect(small.url);
    await connect(small.url);
    expect(await upgradeStatus(small.url)).toBe(503);
  });
});

describe('every socket counts, whatever door it turns out to be', () => {
  it('half-sent HTTP requests and an SSE stream fill the per-address cap: an upgrade, a GET and a POST are refused at accept', async () => {
    const server = await serve({ maxPerIp: 3, limitExempt: [] });
    const partial = [0, 1].map(() => rawSocket(server.port, { send: 'GET / HTTP/1.1\r\nHost: x\r\n' }));
    const stream = rawSocket(server.port, { send: 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n' });
    await Promise.all([...partial, stream].map(settled));
    await new Promise<void>((resolve) => stream.socket.once('data', () => resolve()));
    expect(await upgradeStatus(server.url)).toBe(429);
    expect(await statusLine(server.port, '/health')).toMatch(/^HTTP\/1\.1 429 /);
    const post = await fetch(`${server.httpUrl}/post`, { method: 'POST', body: '{}' }).then(
      (r) => r.status,
      () => 0,
    );
    expect(post).toBe(429);
    for (const s of [...partial, stream]) s.socket.destroy();
    // Freed once the server has seen them close.
    let status = 0;
    for (let i = 0; i < 50 && status !== 101; i++) status = await upgradeStatus(server.url);
    expect(status).toBe(101);
  });
});

describe('TLS', () => {
  it('serves wss:// with --tls-cert and --tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const server = await serve({ tlsCert: cert, tlsKey: key });
    expect(server.url.startsWith('wss://')).toBe(true);
    const c = await connect(server.url, { rejectUnauthorized: false });
    expect(await c.hello('secure')).toMatchObject({ type: 'welcome' });
    writeFileSync(join(dir, 'done'), '');
  });
});

describe('graceful shutdown', () => {
  it('sends every client a shutdown notice and acknowledges what it accepted before closing', async () => {
    const server = await serve({ rateLimit: false });
    const members = await Promise.all(Array.from({ length: 20 }, () => connect(server.url)));
    await Promise.all(members.map((c, i) => c.hello(`sd${i}`)));
    await Promise.all(members.map((c) => c.request('join', { room_id: 'lobby' })));
    members[0]!.send('message', { room_id: 'lobby', message: 'last words' }, 'last');
    await members[0]!.next((m) => m.ref === 'last');
    await server.close();
    for (const c of members) {
      const notice = c.received.find((m: ServerMessage) => m.type === 'shutdown');
      expect(notice).toBeDefined();
      const closed = await c.closedByServer();
      expect(closed.code).toBe(1001);
    }
  });
});
