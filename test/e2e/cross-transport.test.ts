import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/server.js';
import { startTestServer } from '../helpers/test-server.js';
import { SseTestClient } from '../helpers/sse-client.js';
import { TcpTestClient } from '../helpers/tcp-client.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * One room, every door: messages sent over WebSocket, TCP and POST at the same time reach the
 * WebSocket, TCP and SSE members, each of them in the room's one order (by seq).
 * The browser leg lives in test/e2e/browser.test.ts.
 */
let server: RunningServer;
let ws: TestClient;
let tcp: TcpTestClient;
let sse: SseTestClient;

beforeAll(async () => {
  server = await startTestServer({
    tcpPort: 0,
    rateLimit: false,
  });
  ws = await TestClient.open(server.url);
  await ws.request('join', { room_id: 'lobby', user_name: 'wendy' });
  tcp = await TcpTestClient.login(server.tcpPort!, 'terry');
  sse = await SseTestClient.open(`${server.httpUrl}/stream`);
  await sse.waitEvent('joined');
});
afterAll(async () => {
  ws.close();
  tcp.close();
  sse.close();
  await server.close();
});

const ROUNDS = 5;
const wsText = (i: number): string => `from ws ${i}`;
const tcpText = (i: number): string => `from tcp ${i}`;
const postText = (i: number): string => `from post ${i}`;

describe('cross-transport delivery', () => {
  it('a message from each of WebSocket, TCP and POST reaches WebSocket, TCP and SSE members in the same order', async () => {
    const posts: Promise<Response>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      ws.send('message', { room_id: 'lobby', message: wsText(i) });
      tcp.write(`${tcpText(i)}\n`);
      posts.push(
        fetch(`${server.httpUrl}/post`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'paula', content: postText(i) }),
        }),
      );
    }
    const total = 3 * ROUNDS;
    const responses = await Promise.all(posts);
    expect(responses.map((r) => r.status)).toEqual(new Array(ROUNDS).fill(201));

    const wsMessages = (await ws.waitCount((m) => m.type === 'message', total)).map(
      (m) => (m as Extract<ServerMessage, { type: 'message' }>).payload,
    );
    const sseMessages = await sse.waitMessages(total);
    const tcpLines = await tcp.waitLines((l) => /^\[\d\d:\d\d\] #lobby </.test(l), total);

    // The WebSocket member sees the room order: seq 1..15 with no gap.
    expect(wsMessages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const order = wsMessages.map((m) => `<${m.user_name}> ${m.message}`);
    // Everybody's messages are there...
    for (let i = 0; i < ROUNDS; i++) {
      expect(order).toContain(`<wendy> ${wsText(i)}`);
      expect(order).toContain(`<terry> ${tcpText(i)}`);
      expect(order).toContain(`<paula> ${postText(i)}`);
    }
    // ...and the SSE and TCP members see exactly that order.
    expect(sseMessages.map((m) => `<${m.user_name}> ${m.message}`)).toEqual(order);
    expect(sse.events.filter((e) => e.event === 'message').map((e) => Number(e.id!.split('@')[0]))).toEqual(
      wsMessages.map((m) => m.seq),
    );
    expect(tcpLines.map((l) => l.replace(/^\[\d\d:\d\d\] #lobby /, ''))).toEqual(order);
    // Each socket sender's messages keep the order they were sent in (the posts ran in parallel).
    for (const [who, text] of [
      ['wendy', wsText],
      ['terry', tcpText],
    ] as const) {
      expect(order.filter((o) => o.startsWith(`<${who}>`))).toEqual(
        Array.from({ length: ROUNDS }, (_, i) => `<${who}> ${text(i)}`),
      );
    }
  });

  it('the POST sender stays invisible: no join or leave notice reached anyone', () => {
    expect(
      ws.received.some(
        (m) => (m.type === 'user_joined' || m.type === 'user_left') && m.payload.user_name === 'paula',
      ),
    ).toBe(false);
    expect(tcp.lines.some((l) => l.includes('paula joined') || l.includes('paula left'))).toBe(false);
    expect(
      sse.events.some(
        (e) => (e.event === 'user_joined' || e.event === 'user_left') && e.data.includes('paula'),
      ),
    ).toBe(false);
  });
});
