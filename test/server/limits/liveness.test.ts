import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestServers } from '../../helpers/test-server.js';
import { TestClient } from '../../helpers/ws-client.js';

const { serve, track } = useTestServers();

async function connect(url: string): Promise<TestClient> {
  return track(await TestClient.open(url));
}

/** Completes a WebSocket handshake by hand and then never reads or answers anything. */
async function mutePeer(port: number): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return socket;
}

describe('liveness', () => {
  it('terminates a WebSocket peer that stops answering pings, keeps one that answers', async () => {
    const server = await serve({ pingIntervalMs: 150, identifyTimeoutMs: 0 });
    const live = await connect(server.url);
    await live.hello('alive');
    const mute = await mutePeer(server.port);
    const started = performance.now();
    await new Promise<void>((resolve) => mute.once('close', () => resolve()));
    const ms = performance.now() - started;
    console.log(`heartbeat: silent peer dropped after ${ms.toFixed(0)} ms (interval 150 ms)`);
    expect(ms).toBeLessThan(1000);
    expect(await live.request('ping', null)).toMatchObject({ type: 'pong' });
  });
});

describe('size and membership limits', () => {
  it('closes with 1009 on a frame over 64 KiB; the server goes on', async () => {
    const server = await serve();
    const big = await connect(server.url);
    big.raw(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(70 * 1024) } }));
    expect((await big.closedByServer()).code).toBe(1009);
    const next = await connect(server.url);
    expect(await next.hello('after_big')).toMatchObject({ type: 'welcome' });
  });

  it('refuses joining more rooms than --max-rooms-per-user and a full room', async () => {
    const server = await serve({ maxRoomsPerUser: 2, maxMembersPerRoom: 2 });
    const a = await connect(server.url);
    await a.hello('roomy');
    await a.request('join', { room_id: 'one' });
    await a.request('join', { room_id: 'two' });
    expect(await a.request('join', { room_id: 'three' })).toMatchObject({
      payload: { code: 'too_many_rooms' },
    });
    expect(await a.request('join', { room_id: 'two' })).toMatchObject({ type: 'joined' });
    const b = await connect(server.url);
    const c = await connect(server.url);
    await b.hello('second');
    await c.hello('third');
    await b.request('join', { room_id: 'one' });
    expect(await c.request('join', { room_id: 'one' })).toMatchObject({ payload: { code: 'room_full' } });
  });

  it('refuses and masks words with a filter, and answers refused ones with message_refused', async () => {
    const { wordFilter } = await import('../../../src/server/moderation/filters.js');
    const server = await serve({
      filters: [wordFilter(['darn'], 'mask'), wordFilter(['forbidden'], 'refuse')],
    });
    const a = await connect(server.url);
    await a.hello('filtered');
    await a.request('join', { room_id: 'lobby' });
    expect(await a.request('message', { room_id: 'lobby', message: 'oh darn' })).toMatchObject({
      payload: { message: 'oh ****' },
    });
    expect(await a.request('message', { room_id: 'lobby', message: 'a forbidden word' })).toMatchObject({
      payload: { code: 'message_refused' },
    });
  });
});

describe('confusable nicks through the server', () => {
  // Case, Cyrillic а and і, digit 1, an accent, fullwidth, a combining mark, Greek α, capital I, and a mix.
  const attempts = [
    'ALICE',
    'аlice',
    'alіce',
    'a1ice',
    'alíce',
    'ａｌｉｃｅ',
    'alice\u0301',
    'αlice',
    'aIice',
    'al1ce',
    'АLІСЕ',
  ];
  it.each(attempts)('%j cannot take alice', async (spoof) => {
    const server = await serve();
    const owner = await connect(server.url);
    const ownerReply = await owner.hello('alice');
    if (ownerReply.type !== 'welcome') throw new Error('alice should be free');
    const impostor = await connect(server.url);
    const reply = await impostor.hello(spoof);
    expect(reply).toMatchObject({ type: 'error', payload: { code: 'nick_taken' } });
  });
});
