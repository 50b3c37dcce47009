import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server/index.js';
import { useTestServers } from '../../helpers/test-server.js';
import { manualClock } from '../../helpers/wait.js';
import { TestClient } from '../../helpers/ws-client.js';

const { serve, track } = useTestServers();

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One POST /post over a fresh connection (node:http, so hop-by-hop headers stay visible). */
function post(server: RunningServer, body: Record<string, unknown>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.httpUrl}/post`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('POST /post rate limit (one bucket per client address)', () => {
  it('refuses posts past burst + rate with 429, Retry-After and retry_after_ms, from loopback too, whatever the nick', async () => {
    const t = manualClock();
    // Default --limit-exempt (loopback): exemptions cover connection counts, not rates.
    const server = await serve({ rateLimit: { burst: 3, perSecond: 1, clock: t.clock } });
    for (const name of ['a', 'b', 'c'])
      expect((await post(server, { username: name, content: 'hi' })).status).toBe(201);
    // A new nick does not buy a new bucket.
    const refused = await post(server, { username: 'd', content: 'hi' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({
      error: 'rate_limited',
      retry_after_ms: 1000,
      message: expect.stringMatching(/retry in 1000 ms/),
    });
    t.advance(400);
    const sooner = await post(server, { username: 'd', content: 'hi' });
    expect(sooner.body).toMatchObject({ error: 'rate_limited', retry_after_ms: 600 });
    t.advance(600);
    const later = await post(server, { username: 'd', content: 'hi' });
    expect(later.status).toBe(201);
    // Only the accepted posts were stored: this is the fourth message of the room.
    expect(later.body.seq).toBe(4);
  });

  it('does not charge posts the route refuses before sending (bad body, unknown room)', async () => {
    const t = manualClock();
    const server = await serve({ rateLimit: { burst: 1, perSecond: 1, clock: t.clock } });
    for (let i = 0; i < 5; i++) {
      expect((await post(server, { username: 'x' })).status).toBe(400);
      expect((await post(server, { username: 'x', content: 'y', room: 'nowhere' })).status).toBe(404);
    }
    expect((await post(server, { username: 'x', content: 'y' })).status).toBe(201);
    expect((await post(server, { username: 'x', content: 'y' })).status).toBe(429);
  });

  it('closes the connection of an address that keeps posting through its refusals (sustained flooding)', async () => {
    const t = manualClock();
    const server = await serve({ rateLimit: { burst: 1, perSecond: 1, clock: t.clock } });
    // 4 posts a second for 12 s: 3x the allowed rate and more, refused without a quiet second.
    let flooded: Reply | undefined;
    let at = 0;
    for (let i = 0; i < 48 && !flooded; i++) {
      const reply = await post(server, { username: 'spammer', content: `spam ${i}` });
      if (reply.status === 429 && reply.body.message === 'sustained flooding; disconnected') {
        flooded = reply;
        at = i / 4;
      }
      t.advance(250);
    }
    expect(flooded).toBeDefined();
    expect(flooded!.headers.connection).toBe('close');
    expect(flooded!.body).toMatchObject({ error: 'rate_limited', retry_after_ms: expect.any(Number) });
    // The flood rule waits for a whole 10 s window of refusals before it calls it flooding.
    expect(at).toBeGreaterThanOrEqual(10);
  });

  it('keeps socket clients on their own buckets: a flooding poster does not slow a WebSocket member', async () => {
    const t = manualClock();
    const server = await serve({ rateLimit: { burst: 2, perSecond: 1, clock: t.clock } });
    const member = await TestClient.open(server.url);
    track(member);
    await member.request('join', { room_id: 'lobby', user_name: 'member' });
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await post(server, { username: 'poster', content: `p${i}` })).status);
    expect(statuses).toEqual([201, 201, 429, 429, 429]);
    expect(await member.request('message', { room_id: 'lobby', message: 'still here' })).toMatchObject({
      type: 'message',
    });
  });

  it('turns off with rateLimit false (--msg-rate 0)', async () => {
    const server = await serve({ rateLimit: false });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(server, { username: `u${i}`, content: 'x' })),
    );
    expect(statuses.map((r) => r.status)).toEqual(new Array(30).fill(201));
  });
});
