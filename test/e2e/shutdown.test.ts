import { describe, expect, it } from 'vitest';
import { spawnChat } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

describe('SIGTERM on the real binary', () => {
  it('with 200 clients connected: health turns 503, all get the notice, exit 0 in under 5 s', async () => {
    const server = await spawnChat(['--memory']);
    const httpUrl = `http://127.0.0.1:${server.port}`;
    const clients = await Promise.all(Array.from({ length: 200 }, () => TestClient.open(server.url)));
    await Promise.all(clients.map((c, i) => c.hello(`term${i}`)));
    await Promise.all(clients.map((c) => c.request('join', { room_id: 'lobby' })));
    expect((await fetch(`${httpUrl}/health`)).status).toBe(200);

    const started = performance.now();
    server.child.kill('SIGTERM');
    const notices = await Promise.all(clients.map((c) => c.next((m) => m.type === 'shutdown')));
    const closes = await Promise.all(clients.map((c) => c.closedByServer()));
    const code = await server.exited;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `shutdown: ${notices.length}/200 notices, ${closes.filter((c) => c.code === 1001).length} closed with 1001, exit ${code} after ${seconds.toFixed(2)} s`,
    );
    expect(notices).toHaveLength(200);
    expect(closes.every((c) => c.code === 1001)).toBe(true);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(5);
  }, 30_000);

  it('a second signal exits at once', async () => {
    const server = await spawnChat(['--memory', '--shutdown-timeout', '30']);
    // A client that never answers the close handshake keeps the first shutdown waiting.
    const stuck = await TestClient.open(server.url);
    stuck.ws.pause();
    const started = performance.now();
    server.child.kill('SIGTERM');
    server.child.kill('SIGINT');
    const code = await server.exited;
    // A graceful stop would wait for the stuck client (2 s) and exit 0; the second signal cuts it short.
    expect(code).toBe(1);
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
