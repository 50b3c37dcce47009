/**
 * A store that fails a commit: the sender gets internal_error without the cause (it may name
 * files or tables), the operator gets the cause in the log, nothing is acknowledged, and the room
 * goes on with the same seq once the store recovers.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import type { AppendRecord, RoomRecord } from '../../src/server/store/store-types.js';
import { TestClient } from '../helpers/ws-client.js';

const CAUSE = 'SQLITE_FULL: database or disk is full (/srv/secret/chat.db)';

class FlakyStore extends MemoryStore {
  failing = false;
  override async append(records: AppendRecord[]): Promise<void> {
    if (this.failing) throw new Error(CAUSE);
    return super.append(records);
  }
  override async createRoom(room: Omit<RoomRecord, 'last_seq'>): Promise<void> {
    if (this.failing) throw new Error(CAUSE);
    return super.createRoom(room);
  }
}

let server: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

describe('a failed commit', () => {
  it('answers internal_error without the cause, logs the cause, and the seq carries on afterwards', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const store = new FlakyStore();
    server = await startTestServer({
      store,
      logger: pino({ level: 'error' }, sink),
      rateLimit: false,
    });
    const alice = await TestClient.open(server.url);
    clients.push(alice);
    await alice.hello('alice');
    await alice.request('join', { room_id: 'r' });
    expect((await alice.request('message', { room_id: 'r', message: 'one' })).payload).toMatchObject({
      seq: 1,
    });

    store.failing = true;
    const failed = await alice.request('message', { room_id: 'r', message: 'two' });
    expect(failed.type).toBe('error');
    expect(failed.payload).toMatchObject({ code: 'internal_error' });
    expect(JSON.stringify(failed)).not.toContain('SQLITE_FULL');
    expect(lines.join('')).toContain(CAUSE);
    expect(lines.join('')).toContain('room r');

    store.failing = false;
    const after = await alice.request('message', { room_id: 'r', message: 'three' });
    expect(after.payload).toMatchObject({ seq: 2, message: 'three' });
    const messages = alice.received.filter((m: ServerMessage) => m.type === 'message');
    expect(messages.map((m) => (m.payload as { message: string }).message)).toEqual(['one', 'three']);
  });
});

describe('a room whose store record fails to be written', () => {
  it('does not exist afterwards: not listed, not half-made, and can be made once the store recovers', async () => {
    const store = new FlakyStore();
    server = await startTestServer({ store, rateLimit: false });
    const alice = await TestClient.open(server.url);
    const bob = await TestClient.open(server.url);
    clients.push(alice, bob);
    await alice.hello('alice');
    await bob.hello('bob');

    store.failing = true;
    expect((await alice.request('create_room', { room_id: 'full' })).payload).toMatchObject({
      code: 'internal_error',
    });
    expect((await bob.request('join', { room_id: 'joined-new' })).payload).toMatchObject({
      code: 'internal_error',
    });
    const listed = await alice.request('rooms', {});
    expect((listed.payload as { rooms: { room_id: string }[] }).rooms.map((r) => r.room_id)).toEqual([
      'lobby',
    ]);
    expect((await bob.request('message', { room_id: 'full', message: 'hi' })).payload).toMatchObject({
      code: 'no_such_room',
    });
    expect(alice.received.some((m) => m.type === 'room_created' || m.type === 'joined')).toBe(false);

    store.failing = false;
    expect(await alice.request('create_room', { room_id: 'full' })).toMatchObject({ type: 'room_created' });
    await alice.next((m) => m.type === 'joined' && m.payload.room_id === 'full');
    expect(
      (await alice.request('message', { room_id: 'full', message: 'now it works' })).payload,
    ).toMatchObject({ seq: 1 });
    expect(await bob.request('join', { room_id: 'joined-new' })).toMatchObject({ type: 'joined' });
  });

  it('a join and a create_room of one new id at once make one room', async () => {
    const store = new FlakyStore();
    server = await startTestServer({ store, rateLimit: false });
    const alice = await TestClient.open(server.url);
    const bob = await TestClient.open(server.url);
    clients.push(alice, bob);
    await alice.hello('alice');
    await bob.hello('bob');
    const [a, b] = await Promise.all([
      alice.request('join', { room_id: 'race' }),
      bob.request('create_room', { room_id: 'race' }),
    ]);
    // Whoever came second sees the room in the making: a join waits for it, a create is told it exists.
    expect([a.type, b.type].sort()).toEqual(expect.arrayContaining(['joined']));
    expect(
      b.type === 'room_created' ||
        (b.type === 'error' && (b.payload as { code: string }).code === 'room_exists'),
    ).toBe(true);
    const listed = await alice.request('rooms', {});
    expect(
      (listed.payload as { rooms: { room_id: string }[] }).rooms.filter((r) => r.room_id === 'race'),
    ).toHaveLength(1);
  });
});
