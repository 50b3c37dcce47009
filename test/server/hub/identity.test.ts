// The hub's identity module (src/server/hub/identity.ts): its per-address password-check limit.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/index.js';
import { useTestServers } from '../../helpers/test-server.js';
import { manualClock, until } from '../../helpers/wait.js';
import { TestClient } from '../../helpers/ws-client.js';

const { serve, track } = useTestServers();

async function connect(server: RunningServer): Promise<TestClient> {
  return track(await TestClient.open(server.url));
}

function errorOf(m: ServerMessage): { code: string; message: string; retry_after_ms?: number } {
  if (m.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(m)}`);
  return m.payload;
}

describe('password checks are rate-limited per address (each is a full scrypt)', () => {
  it('charges register and hello-with-password, refuses past the bucket with retry_after_ms, across connections and POST', async () => {
    const t = manualClock();
    const server = await serve({ passwordLimit: { burst: 3, perSecond: 1 / 60, clock: t.clock } });
    const owner = await connect(server);
    await owner.hello('owner');
    expect(await owner.request('register', { password: 'correct horse' })).toMatchObject({
      type: 'registered',
    }); // 1
    owner.close();
    await until(() => ![...server.hub.allSessions()].some((s) => s.nick === 'owner'));

    // Two guesses on two fresh connections (a new connection is no new bucket).
    for (const guess of ['wrong one 1', 'wrong one 2']) {
      const c = await connect(server);
      expect(errorOf(await c.request('hello', { user_name: 'owner', password: guess })).code).toBe(
        'nick_registered',
      ); // 2, 3
    }
    const late = await connect(server);
    const refused = errorOf(await late.request('hello', { user_name: 'owner', password: 'correct horse' }));
    expect(refused).toMatchObject({ code: 'rate_limited', retry_after_ms: 60_000 });
    expect(refused.message).toMatch(/password attempts/);

    // No scrypt, no charge: a password given for a nick nobody registered is not checked.
    expect(await late.request('hello', { user_name: 'newbie', password: 'whatever you like' })).toMatchObject(
      { type: 'welcome' },
    );
    // register hashes, so it is charged and refused too.
    expect(errorOf(await late.request('register', { password: 'newbie password' }))).toMatchObject({
      code: 'rate_limited',
    });
    // POST with a password: the same address, the same bucket; HTTP says 429 and Retry-After.
    const res = await fetch(`${server.httpUrl}/post`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'owner', content: 'x', password: 'correct horse' }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await res.json()).toMatchObject({ error: 'rate_limited', retry_after_ms: 60_000 });

    t.advance(60_000);
    const back = await connect(server);
    expect(await back.request('hello', { user_name: 'owner', password: 'correct horse' })).toMatchObject({
      type: 'welcome',
      payload: { registered: true },
    });
  });

  it('turns off with passwordLimit false (--passwords-per-minute 0)', async () => {
    const server = await serve({ passwordLimit: false });
    const c = await connect(server);
    await c.hello('hasher');
    for (let i = 0; i < 12; i++)
      expect(await c.request('register', { password: `password ${i}` })).toMatchObject({
        type: 'registered',
      });
  });
});
