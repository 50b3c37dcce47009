// The hub's room registry (src/server/hub/rooms.ts): creation per address, idle expiry, the room list.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/index.js';
import { MemoryStore } from '../../../src/server/store/memory.js';
import { TcpTestClient } from '../../helpers/tcp-client.js';
import { TestClient } from '../../helpers/ws-client.js';
import { roomRecord } from '../../helpers/room-record.js';
import { useTestServers } from '../../helpers/test-server.js';
import { until } from '../../helpers/wait.js';

const { serve, track } = useTestServers();

async function connect(server: RunningServer, nick?: string): Promise<TestClient> {
  const c = track(await TestClient.open(server.url));
  if (nick !== undefined) await c.hello(nick);
  return c;
}

function code(m: ServerMessage): string {
  return m.type === 'error' ? m.payload.code : m.type;
}

describe('room creation, idle expiry and the room list (issue 11, item 4)', () => {
  it('limits new rooms per address across fresh connections', async () => {
    const server = await serve({
      roomCreateLimit: false,
      roomCreateAddressLimit: { burst: 3, perSecond: 1 / 60 },
    });
    for (const [i, rooms] of [
      ['a', ['a1', 'a2']],
      ['b', ['b1']],
    ] as const) {
      const c = await connect(server, `maker${i}`);
      for (const id of rooms)
        expect(code(await c.request('create_room', { room_id: id }))).toBe('room_created');
      c.close();
    }
    const late = await connect(server, 'makerc');
    const refused = await late.request('join', { room_id: 'c1' });
    expect(refused).toMatchObject({ type: 'error', payload: { code: 'rate_limited' } });
    if (refused.type === 'error') expect(refused.payload.message).toMatch(/too many new rooms/);
    expect(code(await late.request('join', { room_id: 'a1' }))).toBe('joined'); // existing rooms cost no creation
  });

  it('expires empty rooms nobody registered created, from the registry and the store; keeps the rest', async () => {
    const store = new MemoryStore();
    const server = await serve({ store, roomIdleExpiryMs: 100 });
    const owner = await connect(server, 'owner');
    await owner.request('register', { password: 'owner password' });
    await owner.request('create_room', { room_id: 'kept' });
    const guest = await connect(server, 'guest');
    await guest.request('create_room', { room_id: 'temp' });
    await guest.request('message', { room_id: 'temp', message: 'soon gone' });
    await guest.request('create_room', { room_id: 'watched' });
    await owner.request('leave', { room_id: 'kept' });
    await guest.request('leave', { room_id: 'temp' });
    // Somebody in a room keeps it: guest stays in 'watched'.
    await until(
      async () => server.hub.room('temp') === undefined && (await roomRecord(store, 'temp')) === undefined,
    );
    expect(server.hub.room('kept')).toBeDefined();
    expect(server.hub.room('watched')).toBeDefined();
    expect(server.hub.room('lobby')).toBeDefined();
    const listed = await owner.request('rooms', { filter: 'temp' });
    expect(listed).toMatchObject({ type: 'rooms', payload: { rooms: [], has_more: false } });
    // Joining the id again makes a new room, consistently in both places, from seq 1.
    expect(await guest.request('join', { room_id: 'temp' })).toMatchObject({
      type: 'joined',
      payload: { last_seq: 0 },
    });
    expect(await guest.request('message', { room_id: 'temp', message: 'new' })).toMatchObject({
      type: 'message',
      payload: { seq: 1 },
    });
    expect((await roomRecord(store, 'temp'))?.last_seq).toBe(1);
  });

  it('decides in the mailbox: a join queued behind the expiry check finds the room or a fresh one, never a half-removed one', async () => {
    const store = new MemoryStore();
    const server = await serve({
      store,
      roomIdleExpiryMs: 3_600_000,
      roomCreateLimit: false,
      roomCreateAddressLimit: false,
      presenceLimit: false,
      presenceAddressLimit: false,
      rateLimit: false,
    });
    const c = await connect(server, 'racer');
    await c.request('create_room', { room_id: 'race' });
    await c.request('leave', { room_id: 'race' });
    const registry = (server.hub as unknown as { rooms: { remove(room: unknown): Promise<void> } }).rooms;
    for (let i = 0; i < 20; i++) {
      const room = server.hub.room('race')!;
      // An expiry and a join in the same turn, in both orders.
      const join = c.request('join', { room_id: 'race' });
      room.post({ kind: 'expire', idleMs: 0, remove: () => registry.remove(room) });
      expect(code(await join)).toBe('joined');
      expect(code(await c.request('message', { room_id: 'race', message: `m${i}` }))).toBe('message');
      expect(server.hub.room('race')).toBeDefined();
      expect(await roomRecord(store, 'race')).toBeDefined();
      await c.request('leave', { room_id: 'race' });
    }
  });

  it('pages the room list within the reply budget: 10,000 long-named rooms cut nobody, ws or TCP', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 9_999; i++) {
      await store.createRoom({
        room_id: `room-${String(i).padStart(4, '0')}-${'x'.repeat(50)}`,
        room_name: 'n'.repeat(100),
        created_by: 'server',
        created_ts: 0,
      });
    }
    // 20-odd pages back to back: paging is under test here, not the read rate (read-flood.test.ts).
    const server = await serve({ store, tcpPort: 0, readLimit: false, readAddressLimit: false });
    const c = await connect(server, 'lister');
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const ref = `p${pages}`;
      const reply = c.next((m) => m.ref === ref);
      c.send('rooms', { limit: 500, ...(cursor ? { cursor } : {}) }, ref);
      const m = await reply;
      if (m.type !== 'rooms') throw new Error(JSON.stringify(m));
      expect(JSON.stringify(m).length).toBeLessThanOrEqual(256 * 1024 + 200);
      for (const r of m.payload.rooms) seen.add(r.room_id);
      pages++;
      if (!m.payload.has_more) break;
      cursor = m.payload.next_cursor;
    }
    expect(seen.size).toBe(10_000);
    expect(c.closed).toBe(false);
    const found = await c.request('rooms', { filter: 'ROOM-0042' });
    expect(found).toMatchObject({ type: 'rooms', payload: { has_more: false } });
    if (found.type === 'rooms')
      expect(found.payload.rooms.map((r) => r.room_id)).toEqual([`room-0042-${'x'.repeat(50)}`]);
    expect(await c.request('rooms', { cursor: 'garbage' })).toMatchObject({
      type: 'error',
      payload: { code: 'invalid_payload' },
    });

    const tcp = await TcpTestClient.login(server.tcpPort!, 'liner');
    track(tcp);
    tcp.write('/rooms\n');
    await tcp.waitLine('*** more: /rooms more (or /rooms <filter> to search)');
    tcp.write('/rooms more\n');
    await tcp.waitText('*** more: /rooms more', 2);
    tcp.write('/rooms 0777\n');
    await tcp.waitLine((l) => l.startsWith('***   #room-0777-'));
    expect(tcp.closed).toBe(false);
    console.log(`room list: 10,000 rooms in ${pages} pages of at most the reply budget`);
  }, 60_000);
});
