import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/server.js';
import { startTestServer } from '../../helpers/test-server.js';
import { until } from '../../helpers/wait.js';
import { parsePostBody } from '../../../src/server/transports/post.js';
import { TestClient } from '../../helpers/ws-client.js';

let server: RunningServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer({
    // These tests are about the route, not its rate: every post here comes from 127.0.0.1 and
    // shares one bucket. The limit is tested in test/server/limits/post-rate.test.ts.
    rateLimit: false,
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function member(name: string, room = 'lobby'): Promise<TestClient> {
  const ws = await TestClient.open(server.url);
  clients.push(ws);
  await ws.request('join', { room_id: room, user_name: name });
  return ws;
}

const post = (
  body: unknown,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
): Promise<Response> =>
  fetch(`${server.httpUrl}/post`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /post', () => {
  it('stores the message and answers 201 with it (id, seq), quietly: no join or leave notice', async () => {
    const ws = await member('listener');
    const res = await post({ username: 'Alice', content: 'Hello from terminal' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ room_id: 'lobby', user_name: 'Alice', message: 'Hello from terminal' });
    expect(typeof body.id).toBe('string');
    expect(typeof body.seq).toBe('number');
    const seen = await ws.next((m) => m.type === 'message' && m.payload.message === 'Hello from terminal');
    expect(seen.payload).toEqual(body);
    expect(ws.received.filter((m) => m.type === 'user_joined' || m.type === 'user_left')).toEqual([]);
    // The one-shot session is gone and its nick free again.
    expect(server.hub.snapshot().connections.http).toBe(0);
    const alice = await TestClient.open(server.url);
    clients.push(alice);
    expect((await alice.request('hello', { user_name: 'alice' })).type).toBe('welcome');
  });

  it('posts to another room with "room", and cleans text like any message', async () => {
    const ws = await member('devfan', 'dev');
    const res = await post({ username: 'bot', content: 'build \x1b[32mgreen\x1b[0m', room: 'dev' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ room_id: 'dev', message: 'build green' });
    await ws.next((m) => m.type === 'message' && m.payload.message === 'build green');
  });

  it('takes application/json with parameters and in any case', async () => {
    expect(
      (
        await post(
          { username: 'charset', content: 'x' },
          { 'Content-Type': 'application/json; charset=utf-8' },
        )
      ).status,
    ).toBe(201);
    expect(
      (await post({ username: 'shouty', content: 'x' }, { 'Content-Type': 'Application/JSON' })).status,
    ).toBe(201);
  });

  it.each<[string, string | Record<string, unknown>, number, string]>([
    ['bad JSON', '{"username": "x", ', 400, 'bad_json'],
    ['a body that is no object', '[1,2]', 400, 'invalid_payload'],
    ['a missing username', { content: 'x' }, 400, 'invalid_payload'],
    ['a missing content', { username: 'x' }, 400, 'invalid_payload'],
    ['a content that is no string', { username: 'x', content: 5 }, 400, 'invalid_payload'],
    ['an empty content', { username: 'x', content: '   ' }, 400, 'empty_message'],
    ['a too long content', { username: 'x', content: 'y'.repeat(4001) }, 400, 'message_too_long'],
    ['a bad nick', { username: 'two words', content: 'x' }, 400, 'bad_nick'],
    ['a bad room id', { username: 'x', content: 'x', room: 'a b' }, 400, 'bad_room_id'],
    ['an unknown room', { username: 'x', content: 'x', room: 'nowhere' }, 404, 'no_such_room'],
  ])('refuses %s with %i and a stable code', async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: code, message: expect.any(String) });
  });

  it('answers 409 when the nick is held by somebody online', async () => {
    await member('Taken');
    const res = await post({ username: 'taken', content: 'impostor' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: 'nick_taken' });
  });

  it('answers 403 for a registered nick without its password, 201 with it', async () => {
    const owner = await member('owner');
    await owner.request('register', { password: 'correct horse' });
    owner.close();
    await until(() => !isOnline('owner'));
    expect((await post({ username: 'owner', content: 'x' })).status).toBe(403);
    expect((await post({ username: 'owner', content: 'x', password: 'correct horse' })).status).toBe(201);
  });

  it('answers 413 for a body over 64 KiB, with or without Content-Length', async () => {
    const big = JSON.stringify({ username: 'big', content: 'x'.repeat(70 * 1024) });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' });
    // Chunked: no Content-Length, the limit is counted while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${server.httpUrl}/post`,
        { method: 'POST', headers: { 'Content-Type': 'application/json' } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 70; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('lets parallel posts under one nick take turns instead of refusing each other', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post({ username: 'ci-bot', content: `build ${i}` })),
    );
    expect(responses.map((r) => r.status)).toEqual(new Array(8).fill(201));
  });

  it('answers 405 to other methods', async () => {
    const res = await fetch(`${server.httpUrl}/post`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('keeps the room order: posts and WebSocket messages interleave by seq', async () => {
    const ws = await member('orderly');
    const acks = await Promise.all(
      [1, 2, 3].map((i) =>
        post({ username: `p${i}`, content: `post ${i}` }).then((r) => r.json() as Promise<{ seq: number }>),
      ),
    );
    const seqs = acks.map((a) => a.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(3);
    const got = await ws.waitCount((m) => m.type === 'message' && m.payload.message.startsWith('post '), 3);
    expect(got.map((m) => (m as Extract<ServerMessage, { type: 'message' }>).payload.seq)).toEqual(seqs);
  });
});

/** A POST with exactly these headers (Host and Origin included), as a browser or curl sends it. */
function rawPost(
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/post',
        method: 'POST',
        headers: { 'Content-Length': String(bytes.length), ...headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(parts).toString() || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

describe('POST /post from other sites (CSRF)', () => {
  const json = { 'Content-Type': 'application/json' };

  it.each([
    ['text/plain (a <form enctype="text/plain">, a no-cors fetch)', 'text/plain;charset=UTF-8'],
    ['a url-encoded form (curl -d without -H)', 'application/x-www-form-urlencoded'],
    ['a multipart form', 'multipart/form-data; boundary=x'],
    ['a JSON look-alike', 'application/jsonp'],
  ])('refuses %s with 415 and stores nothing', async (_name, type) => {
    const ws = await member(`reader${type.length}`);
    const res = await rawPost({ 'Content-Type': type }, { username: 'csrf', content: `forged ${type}` });
    expect(res).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    expect((await rawPost({}, { username: 'csrf', content: 'no type' })).status).toBe(415);
    // The member's ping comes back after anything the post could have stored.
    await ws.request('ping', null);
    expect(ws.received.some((m) => m.type === 'message' && m.payload.user_name === 'csrf')).toBe(false);
  });

  it('refuses a foreign Origin with 403, allows its own origin and none (curl)', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    expect(
      await rawPost({ ...json, Origin: 'https://evil.example' }, { username: 'victim', content: 'forged' }),
    ).toMatchObject({ status: 403, body: { error: 'forbidden_origin' } });
    expect(
      (await rawPost({ ...json, Origin: own }, { username: 'samesite', content: 'from the page' })).status,
    ).toBe(201);
    expect(
      (
        await rawPost(
          { ...json, Origin: `http://localhost:${server.port}` },
          { username: 'samesite', content: 'via localhost' },
        )
      ).status,
    ).toBe(201);
    expect((await rawPost(json, { username: 'curl', content: 'no origin' })).status).toBe(201);
  });

  it('does not trust Host: a DNS-rebinding page and https against this http server get 403', async () => {
    const rebound = `evil.example:${server.port}`;
    expect(
      (
        await rawPost(
          { ...json, Host: rebound, Origin: `http://${rebound}` },
          { username: 'rebind', content: 'x' },
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await rawPost(
          { ...json, Origin: `https://127.0.0.1:${server.port}` },
          { username: 'tls', content: 'x' },
        )
      ).status,
    ).toBe(403);
  });

  it('a foreign page cannot spend the address password budget and lock the owner out', async () => {
    const owner = await member('budgeted');
    await owner.request('register', { password: 'owner secret' });
    owner.close();
    await until(() => !isOnline('budgeted'));
    for (let i = 0; i < 15; i++) {
      const res = await rawPost(
        { 'Content-Type': 'text/plain', Origin: 'https://evil.example' },
        { username: 'budgeted', content: 'x', password: `guess ${i}` },
      );
      expect(res.status).toBe(403);
    }
    expect(
      (await rawPost(json, { username: 'budgeted', content: 'still mine', password: 'owner secret' })).status,
    ).toBe(201);
  });
});

function isOnline(name: string): boolean {
  return [...server.hub.allSessions()].some((s) => s.nick === name);
}

describe('parsePostBody', () => {
  it('defaults the room and keeps an optional password', () => {
    expect(parsePostBody('{"username":"a","content":"b"}', 'lobby')).toEqual({
      ok: true,
      username: 'a',
      content: 'b',
      room: 'lobby',
    });
    expect(parsePostBody('{"username":"a","content":"b","room":"r","password":"p"}', 'lobby')).toEqual({
      ok: true,
      username: 'a',
      content: 'b',
      room: 'r',
      password: 'p',
    });
  });
});
