import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/server/connection.js';
import { Outbound } from '../../src/server/outbound.js';
import { runConnectionContract } from '../helpers/connection-contract.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { TestClient } from '../helpers/ws-client.js';

// The Connection contract against every door that keeps a client connected, as the Store
// contract runs against every Store.

runConnectionContract('WebSocket', {
  transport: 'ws',
  async open(server, nick) {
    const c = await TestClient.open(server.url);
    await c.hello(nick);
    return {
      text: () => c.received.map((m) => JSON.stringify(m)).join('\n'),
      pause: () => c.ws.pause(),
      resume: () => c.ws.resume(),
      ended: () => c.closed,
      // A close frame: the reason's code and message in its reason text.
      toldWhy: (reason) => c.closeReason === `${reason.code}: ${reason.message}`,
      close: () => c.close(),
    };
  },
});

runConnectionContract('TCP', {
  transport: 'tcp',
  serverOptions: { tcpPort: 0 },
  async open(server, nick) {
    const c = await TcpTestClient.login(server.tcpPort!, nick);
    return {
      text: () => c.text,
      pause: () => c.socket.pause(),
      resume: () => c.socket.resume(),
      ended: () => c.closed,
      // A last line.
      toldWhy: (reason) => c.lines.includes(`*** ${reason.message}`),
      close: () => c.close(),
    };
  },
});

runConnectionContract('SSE', {
  transport: 'sse',
  async open(server) {
    const c = await SseTestClient.open(`${server.httpUrl}/stream`);
    await c.waitEvent('joined');
    return {
      text: () => c.events.map((e) => e.data).join('\n'),
      pause: () => c.res.pause(),
      resume: () => c.res.resume(),
      // A stream the server destroyed (slow_consumer) aborts instead of ending.
      ended: () => c.ended || c.res.destroyed,
      // A `close` event.
      toldWhy: (reason) => c.events.some((e) => e.event === 'close' && e.data === JSON.stringify(reason)),
      close: () => c.close(),
    };
  },
});

describe('POST Connection contract (a one-shot connection: what applies of it)', () => {
  let server: TestServer;
  const made: Connection[] = [];
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: false });
    const connect = server.hub.connect.bind(server.hub);
    server.hub.connect = (conn) => {
      made.push(conn);
      return connect(conn);
    };
  });
  afterAll(async () => {
    await server.close();
  });

  it('says which door it is, never buffers, never holds drained back, never throws', async () => {
    const res = await fetch(`${server.httpUrl}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Connection: 'close' },
      body: JSON.stringify({ username: 'poster', content: 'hi' }),
    });
    expect(res.status).toBe(201);
    const conn = made.find((c) => c.transport === 'http');
    expect(conn).toBeDefined();
    expect(conn!.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(conn!.bufferedBytes()).toBe(0);
    await conn!.drained(0);
    // The request is over and its connection closed: late events are dropped quietly.
    expect(() =>
      conn!.send(new Outbound({ type: 'pong', payload: { ts: 1 }, ref: 'late' } as never)),
    ).not.toThrow();
    expect(() => conn!.close({ code: 'idle', message: 'again' })).not.toThrow();
  });
});
