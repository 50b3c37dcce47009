import { createHook } from 'node:async_hooks';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/test-server.js';
import { processMetricsRegistry } from '../../src/server/metrics.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Timers, intervals, sockets and servers made since `track()`, alive until Node destroys them
 * (a timer when it is cleared or has fired, a handle when it is closed). Unlike
 * process.getActiveResourcesInfo() this sees unref'd timers too, which keep no process alive but
 * leak a closure (and whatever it holds) per server.
 */
function track(): { live(): string[]; stop(): void } {
  const alive = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      // Not Immediate: the wait below makes one per look, alive while its own callback runs.
      if (type === 'Timeout' || type.endsWith('WRAP')) alive.set(id, type);
    },
    destroy(id) {
      alive.delete(id);
    },
  }).enable();
  return {
    live: () => {
      const counts = new Map<string, number>();
      for (const type of alive.values()) counts.set(type, (counts.get(type) ?? 0) + 1);
      return [...counts].map(([type, n]) => `${type} x${n}`).sort();
    },
    stop: () => hook.disable(),
  };
}

/** Resolves with what is still alive once nothing is; each look waits for the next event-loop turn. */
async function settled(live: () => string[], timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (live().length > 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  return live();
}

function postOnce(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/post`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('server.close()', () => {
  it('leaves no handle, socket or timer behind, with every door used', async () => {
    const tracked = track();
    // Default intervals (monitor, SSE heartbeats, pings, admission sweep) all start.
    const server = await startTestServer({ tcpPort: 0, monitorIntervalMs: undefined });
    const ws = await TestClient.open(server.url);
    await ws.request('join', { room_id: 'lobby', user_name: 'wanda' });
    const tcp = await TcpTestClient.login(server.tcpPort!, 'terry');
    const sse = await SseTestClient.open(`${server.httpUrl}/stream`);
    await sse.waitEvent('joined');
    expect(await postOnce(server.httpUrl, { username: 'poster', content: 'hi' })).toBe(201);
    await ws.next((m) => m.type === 'message' && m.payload.message === 'hi');
    const metrics = await new Promise<string>((resolve, reject) => {
      request(`${server.httpUrl}/metrics`, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(metrics).toContain('chat_messages_stored_total 1');
    console.log(`close: alive while serving: ${tracked.live().join(', ')}`);
    expect(tracked.live().some((kind) => kind.startsWith('Timeout'))).toBe(true); // the check can see timers

    await server.close();
    await Promise.all([ws.closedByServer(), tcp.waitClosed(), sse.waitEnded()]);
    // Node's own HTTP date cache keeps a 1 s timer; everything of ours is gone at once.
    const left = await settled(tracked.live);
    tracked.stop();
    expect(left).toEqual([]);
  });

  it('collects the Node.js default metrics once per process: each scrape has them once, whichever servers are running', async () => {
    const first = await startTestServer();
    const second = await startTestServer();
    await first.close();
    const text = await (
      await fetch(`${second.httpUrl}/metrics`, { headers: { Connection: 'close' } })
    ).text();
    await second.close();
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_gc_duration_seconds',
      'process_cpu_user_seconds_total',
      'chat_rooms',
    ]) {
      expect(text.split(`# TYPE ${name} `).length - 1).toBe(1);
    }
    // One registry for the process, not one per server (each would keep a GC observer and an
    // event-loop monitor alive for good).
    expect(processMetricsRegistry()).toBe(processMetricsRegistry());
    expect(processMetricsRegistry().getSingleMetric('chat_rooms')).toBeUndefined();
  });
});
