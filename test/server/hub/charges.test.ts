// What requests cost (src/server/hub/charges.ts): presence changes and room creation.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/index.js';
import { TcpTestClient } from '../../helpers/tcp-client.js';
import { TestClient } from '../../helpers/ws-client.js';
import { useTestServers } from '../../helpers/test-server.js';
import { manualClock } from '../../helpers/wait.js';

const { serve, track } = useTestServers();

async function connect(server: RunningServer, nick?: string): Promise<TestClient> {
  const c = track(await TestClient.open(server.url));
  if (nick !== undefined) await c.hello(nick);
  return c;
}

function code(m: ServerMessage): string {
  return m.type === 'error' ? m.payload.code : m.type;
}

function errorOf(m: ServerMessage): { code: string; message: string; retry_after_ms?: number } {
  if (m.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(m)}`);
  return m.payload;
}

describe('presence changes are rate-limited (issue 11, item 7)', () => {
  it('nick changes and joins draw from the connection bucket; a leave spends a token but is never refused', async () => {
    const server = await serve({
      presenceLimit: { burst: 4, perSecond: 1 / 60 },
      presenceAddressLimit: false,
    });
    const c = await connect(server, 'flipper');
    expect(code(await c.request('nick', { user_name: 'flipper1' }))).toBe('nick_changed'); // 1
    expect(code(await c.request('join', { room_id: 'lobby' }))).toBe('joined'); // 2
    expect(code(await c.request('leave', { room_id: 'lobby' }))).toBe('user_left'); // 3
    expect(code(await c.request('join', { room_id: 'lobby' }))).toBe('joined'); // 4
    const refused = await c.request('nick', { user_name: 'flipper2' });
    expect(refused).toMatchObject({ type: 'error', payload: { code: 'rate_limited' } });
    if (refused.type === 'error') expect(refused.payload.message).toMatch(/joins, leaves and nick changes/);
    expect(code(await c.request('leave', { room_id: 'lobby' }))).toBe('user_left');
    expect(code(await c.request('join', { room_id: 'lobby' }))).toBe('rate_limited');
  });

  it('the address bucket outlives the connection', async () => {
    const server = await serve({
      presenceLimit: false,
      presenceAddressLimit: { burst: 3, perSecond: 1 / 60 },
    });
    const a = await connect(server, 'first');
    expect(code(await a.request('join', { room_id: 'lobby' }))).toBe('joined');
    expect(code(await a.request('nick', { user_name: 'first2' }))).toBe('nick_changed');
    a.close();
    const b = await connect(server, 'second');
    expect(code(await b.request('join', { room_id: 'lobby' }))).toBe('joined');
    expect(code(await b.request('nick', { user_name: 'second2' }))).toBe('rate_limited');
  });

  it('with the defaults, 2,000 nick changes and 1,000 leave/join pairs reach a bystander as at most a burst of notices', async () => {
    const server = await serve();
    const bystander = await connect(server, 'bystander');
    await bystander.request('join', { room_id: 'lobby' });
    const attacker = await connect(server, 'churn');
    await attacker.request('join', { room_id: 'lobby' });
    for (let i = 0; i < 2000; i++) attacker.send('nick', { user_name: `churn${i % 2}` });
    for (let i = 0; i < 1000; i++) {
      attacker.send('leave', { room_id: 'lobby' });
      attacker.send('join', { room_id: 'lobby' });
    }
    // Cut for flooding (over 200 refusals in one turn) long before the end.
    await attacker.closedByServer();
    const marker = await bystander.request('ping', null);
    expect(marker.type).toBe('pong');
    const notices = bystander.received.filter(
      (m) => m.type === 'nick_changed' || m.type === 'user_joined' || m.type === 'user_left',
    );
    console.log(`presence flood: the bystander got ${notices.length} notices (unlimited: 4,000)`);
    expect(notices.length).toBeLessThanOrEqual(55);
  });
});

describe('room creation limits', () => {
  it('a connection creates rooms at the bucket rate (create_room and join of a new id), each connection on its own bucket', async () => {
    const t = manualClock();
    const server = await serve({ roomCreateLimit: { burst: 2, perSecond: 1 / 6, clock: t.clock } });
    const a = await connect(server);
    await a.hello('a');
    expect(await a.request('create_room', { room_id: 'r1' })).toMatchObject({ type: 'room_created' });
    expect(await a.request('join', { room_id: 'r2' })).toMatchObject({ type: 'joined' });
    expect(errorOf(await a.request('create_room', { room_id: 'r3' }))).toMatchObject({
      code: 'rate_limited',
      retry_after_ms: 6000,
    });
    expect(errorOf(await a.request('join', { room_id: 'r3' }))).toMatchObject({
      code: 'rate_limited',
      retry_after_ms: 6000,
    });
    // Joining rooms that exist costs nothing.
    expect(await a.request('join', { room_id: 'lobby' })).toMatchObject({ type: 'joined' });
    const b = await connect(server);
    await b.hello('b');
    expect(await b.request('join', { room_id: 'r3' })).toMatchObject({ type: 'joined' });
    expect(await a.request('join', { room_id: 'r3' })).toMatchObject({ type: 'joined' });
    t.advance(6000);
    expect(await a.request('create_room', { room_id: 'r4' })).toMatchObject({ type: 'room_created' });
    expect(server.hub.snapshot().rooms).toBe(5);
  });

  it('holds TCP clients to the same gate through /join', async () => {
    const t = manualClock();
    const server = await serve({
      tcpPort: 0,
      roomCreateLimit: { burst: 1, perSecond: 1 / 6, clock: t.clock },
    });
    const tcp = await TcpTestClient.login(server.tcpPort!, 'terry');
    track(tcp);
    tcp.write('/join x1\n');
    await tcp.waitLine('*** you joined #x1');
    tcp.write('/join x2\n');
    expect(await tcp.waitLine('*** error:')).toBe('*** error: too many new rooms; retry in 6000 ms');
    t.advance(6000);
    tcp.write('/join x2\n');
    await tcp.waitLine('*** you joined #x2');
  });

  it('refuses new rooms past --max-rooms with server_rooms_full; existing rooms stay open', async () => {
    const server = await serve({ maxRooms: 3 }); // lobby + 2
    const a = await connect(server);
    await a.hello('a');
    expect(await a.request('create_room', { room_id: 'one' })).toMatchObject({ type: 'room_created' });
    expect(await a.request('join', { room_id: 'two' })).toMatchObject({ type: 'joined' });
    const full = errorOf(await a.request('create_room', { room_id: 'three' }));
    expect(full.code).toBe('server_rooms_full');
    expect(full.message).toMatch(/3 rooms/);
    expect(errorOf(await a.request('join', { room_id: 'three' })).code).toBe('server_rooms_full');
    const b = await connect(server);
    await b.hello('b');
    expect(errorOf(await b.request('join', { room_id: 'four' })).code).toBe('server_rooms_full');
    expect(await b.request('join', { room_id: 'one' })).toMatchObject({ type: 'joined' });
    expect(server.hub.snapshot().rooms).toBe(3);
  });
});
