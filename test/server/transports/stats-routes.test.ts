import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/server/log.js';
import { startMonitor } from '../../../src/server/monitor.js';
import type { RunningServer } from '../../../src/server/server.js';
import { startTestServer } from '../../helpers/test-server.js';
import { RateWindow, type StatsSnapshot } from '../../../src/server/server-stats.js';
import { SseTestClient } from '../../helpers/sse-client.js';
import { TcpTestClient } from '../../helpers/tcp-client.js';
import { TestClient } from '../../helpers/ws-client.js';

let server: RunningServer;
let ws: TestClient;
let tcp: TcpTestClient;
let sse: SseTestClient;

beforeAll(async () => {
  server = await startTestServer({
    tcpPort: 0,
  });
  ws = await TestClient.open(server.url);
  await ws.request('join', { room_id: 'lobby', user_name: 'statsy' });
  tcp = await TcpTestClient.login(server.tcpPort!, 'liney');
  sse = await SseTestClient.open(`${server.httpUrl}/stream`);
  await sse.waitEvent('joined');
  for (const text of ['one', 'two', 'three'])
    await ws.request('message', { room_id: 'lobby', message: text });
  await tcp.waitLine((l) => l.endsWith('<statsy> three'));
  await sse.waitMessages(3);
});
afterAll(async () => {
  ws.close();
  tcp.close();
  sse.close();
  await server.close();
});

describe('GET /stats', () => {
  it('reports connections by transport, rooms, users, messages and uptime', async () => {
    const res = await fetch(`${server.httpUrl}/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as StatsSnapshot;
    expect(stats.connections).toMatchObject({ ws: 1, tcp: 1, sse: 1, http: 0, total: 3 });
    expect(stats.rooms).toBe(1);
    expect(stats.users).toBe(2);
    expect(stats.messages).toMatchObject({ total: 3, received: 3, window_s: 10 });
    // Each message went to ws (its ack), tcp and sse.
    expect(stats.messages.deliveries).toBe(9);
    expect(stats.messages.per_second).toBeGreaterThan(0);
    expect(stats.uptime_s).toBeGreaterThanOrEqual(0);
    expect(stats.event_loop_lag_ms).toEqual({
      p50: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
    });
  });
});

describe('GET /metrics', () => {
  it('is Prometheus text with the chat metrics and the Node.js defaults', async () => {
    const res = await fetch(`${server.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const line of [
      'chat_connections{transport="ws"} 1',
      'chat_connections{transport="tcp"} 1',
      'chat_connections{transport="sse"} 1',
      'chat_users 2',
      'chat_rooms 1',
      'chat_messages_received_total 3',
      'chat_messages_stored_total 3',
      'chat_message_deliveries_total 9',
      'chat_slow_consumers_disconnected_total 0',
      'chat_store_commit_seconds_count 3',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toContain('# TYPE chat_store_commit_seconds histogram');
    expect(text).toContain('chat_fanout_recipients_bucket');
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
  });

  it('keeps a registry per server: a second server counts from zero', async () => {
    const other = await startTestServer();
    try {
      const text = await (await fetch(`${other.httpUrl}/metrics`)).text();
      expect(text.split('\n')).toContain('chat_messages_stored_total 0');
    } finally {
      await other.close();
    }
  });
});

describe('monitor', () => {
  it('logs one stats line per interval at info level', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    let wake: () => void = () => {};
    const twoLines = new Promise<void>((resolve) => (wake = resolve));
    const log = {
      info(obj: Record<string, unknown>, msg: string) {
        lines.push({ obj, msg });
        if (lines.length === 2) wake();
      },
    } as unknown as Logger;
    const stop = startMonitor(log, server.hub, server.stats, 10);
    await twoLines;
    stop();
    expect(lines[0]!.msg).toBe('stats');
    expect(lines[0]!.obj).toMatchObject({
      connections: { ws: 1, tcp: 1, sse: 1 },
      rooms: 1,
      users: 2,
      msgs_total: 3,
    });
  });
});

describe('RateWindow', () => {
  it('averages over the last whole seconds of the window', () => {
    const t0 = 1_000_000_000;
    const w = new RateWindow(10, t0);
    w.add(5, t0);
    w.add(5, t0 + 999);
    expect(w.rate(t0 + 999)).toBe(10);
    w.add(10, t0 + 1500);
    expect(w.rate(t0 + 1500)).toBe(10);
    expect(w.rate(t0 + 9_999)).toBe(2);
    // Ten seconds later the first second has left the window.
    expect(w.rate(t0 + 10_000)).toBe(1);
    expect(w.rate(t0 + 60_000)).toBe(0);
  });
});
