/**
 * Issue 4, restart: the real binary on a real data directory is stopped (SIGTERM) and started
 * again; rooms, history, seq, registered nicks and idempotency keys are all still there.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerEventPayloads, ServerMessage } from '../../src/protocol/events.js';
import { chatFixtures, type ChatProcess } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

const ROOMS = { room_a: 12, room_b: 7, room_c: 60 } as const;
type RoomId = keyof typeof ROOMS;

const chats = chatFixtures();
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await chats.cleanup();
});

function start(dataDir: string): Promise<ChatProcess> {
  // No rate limit: the writers here pipeline far past a person's burst.
  return chats.spawn(['--data-dir', dataDir, '--msg-rate', '0']);
}

async function connect(proc: ChatProcess): Promise<TestClient> {
  const client = await TestClient.open(proc.url);
  clients.push(client);
  return client;
}

function payloadOf<T extends ServerMessage['type']>(m: ServerMessage, type: T): ServerEventPayloads[T] {
  expect(m.type, JSON.stringify(m)).toBe(type);
  return m.payload as ServerEventPayloads[T];
}

/** Every message of a room, oldest first, by paging `history` back from the newest. */
async function readRoom(client: TestClient, roomId: string): Promise<ChatMessage[]> {
  const all: ChatMessage[] = [];
  let before: number | undefined;
  for (;;) {
    const page = payloadOf(
      await client.request('history', {
        room_id: roomId,
        limit: 20,
        ...(before ? { before_seq: before } : {}),
      }),
      'history',
    );
    all.unshift(...page.messages);
    if (!page.has_more) return all;
    before = page.messages[0]!.seq;
  }
}

describe('chat serve --data-dir across a restart', () => {
  it('keeps rooms, history and seq; the next message in each room continues the seq', async () => {
    const dir = chats.tempDir();
    const first = await start(dir.path);
    const alice = await connect(first);
    payloadOf(await alice.hello('alice'), 'welcome');
    const sent = new Map<RoomId, ChatMessage[]>();
    for (const [roomId, count] of Object.entries(ROOMS) as [RoomId, number][]) {
      payloadOf(
        await alice.request('create_room', { room_id: roomId, room_name: `Room ${roomId}` }),
        'room_created',
      );
      await alice.next((m) => m.type === 'history' && m.payload.room_id === roomId);
      // Pipelined, then awaited: acknowledgements come back in order.
      const acks = Array.from({ length: count }, (_, i) =>
        alice.request('message', { room_id: roomId, message: `${roomId} #${i + 1} ✓` }),
      );
      sent.set(
        roomId,
        (await Promise.all(acks)).map((m) => payloadOf(m, 'message')),
      );
      expect(sent.get(roomId)!.map((m) => m.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    }
    alice.close();
    expect(await first.stop()).toBe(0);

    const second = await start(dir.path);
    const bob = await connect(second);
    payloadOf(await bob.hello('bob'), 'welcome');
    const listed = payloadOf(await bob.request('rooms', null), 'rooms').rooms;
    expect(listed.map((r) => r.room_id)).toEqual(expect.arrayContaining(Object.keys(ROOMS)));
    expect(listed.find((r) => r.room_id === 'room_b')?.room_name).toBe('Room room_b');

    for (const [roomId, count] of Object.entries(ROOMS) as [RoomId, number][]) {
      const history = bob.next((m) => m.type === 'history' && m.payload.room_id === roomId);
      const joined = payloadOf(await bob.request('join', { room_id: roomId }), 'joined');
      expect(joined.last_seq).toBe(count);
      // The join's history is the last 50, exactly as acknowledged before the restart.
      const onJoin = payloadOf(await history, 'history');
      expect(onJoin.messages).toEqual(sent.get(roomId)!.slice(-50));
      expect(onJoin.has_more).toBe(count > 50);
      expect(await readRoom(bob, roomId)).toEqual(sent.get(roomId));

      const next = payloadOf(
        await bob.request('message', { room_id: roomId, message: 'after restart' }),
        'message',
      );
      expect(next.seq).toBe(count + 1);
      expect(sent.get(roomId)!.map((m) => m.id)).not.toContain(next.id);
    }
    bob.close();
    expect(await second.stop()).toBe(0);

    // The file itself: every room's seq is 1..count+1 with no gap, and it is sound.
    const db = new Database(join(dir.path, 'chat.db'), { readonly: true });
    try {
      for (const [roomId, count] of Object.entries(ROOMS)) {
        const seqs = db
          .prepare('SELECT seq FROM messages WHERE room_id = ? ORDER BY seq')
          .pluck()
          .all(roomId);
        expect(seqs).toEqual(Array.from({ length: count + 1 }, (_, i) => i + 1));
      }
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('keeps a registered nick: it takes the right password, not none or a wrong one', async () => {
    const dir = chats.tempDir();
    const first = await start(dir.path);
    const carol = await connect(first);
    const welcome = payloadOf(await carol.hello('Carol'), 'welcome');
    expect(welcome.registered).toBe(false);
    expect(
      payloadOf(await carol.request('register', { password: 'correct horse' }), 'registered').user_name,
    ).toBe('Carol');
    carol.close();
    expect(await first.stop()).toBe(0);
    expect(first.stderr()).not.toContain('correct horse');

    const second = await start(dir.path);
    const client = await connect(second);
    // One connection tries all three: a refused hello leaves it unidentified.
    const bare = await client.request('hello', { user_name: 'Carol' });
    expect(payloadOf(bare, 'error').code).toBe('nick_registered');
    const caseFold = await client.request('hello', { user_name: 'carol' });
    expect(payloadOf(caseFold, 'error').code).toBe('nick_registered');
    // join and create_room carry no password, so they cannot bind a registered nick either.
    const viaJoin = await client.request('join', { room_id: 'lobby', user_name: 'Carol' });
    expect(payloadOf(viaJoin, 'error').code).toBe('nick_registered');
    const wrong = await client.request('hello', { user_name: 'Carol', password: 'wrong horse' });
    expect(payloadOf(wrong, 'error').code).toBe('nick_registered');
    const right = payloadOf(
      await client.request('hello', { user_name: 'Carol', password: 'correct horse' }),
      'welcome',
    );
    expect(right).toMatchObject({ user_name: 'Carol', registered: true });
    client.close();
    expect(await second.stop()).toBe(0);
    expect(second.stderr()).not.toContain('horse');
  });

  it('answers a client_msg_id retry after a restart with the original seq and id, and broadcasts nothing', async () => {
    const dir = chats.tempDir();
    const first = await start(dir.path);
    const dave = await connect(first);
    await dave.hello('dave');
    await dave.request('join', { room_id: 'retry' });
    const original = payloadOf(
      await dave.request('message', { room_id: 'retry', message: 'once', client_msg_id: 'k-1' }),
      'message',
    );
    expect(original).toMatchObject({ seq: 1, message: 'once', client_msg_id: 'k-1' });
    dave.close();
    expect(await first.stop()).toBe(0);

    const second = await start(dir.path);
    const watcher = await connect(second);
    await watcher.hello('watcher');
    await watcher.request('join', { room_id: 'retry' });
    const again = await connect(second);
    await again.hello('dave');
    await again.request('join', { room_id: 'retry' });
    // The retry carries different text on purpose: the stored message wins.
    const retried = payloadOf(
      await again.request('message', { room_id: 'retry', message: 'twice?', client_msg_id: 'k-1' }),
      'message',
    );
    expect(retried).toEqual(original);
    const fresh = payloadOf(
      await again.request('message', { room_id: 'retry', message: 'new', client_msg_id: 'k-2' }),
      'message',
    );
    expect(fresh.seq).toBe(2);
    // The room is one ordered stream: had the retry been broadcast, it would arrive before seq 2.
    await watcher.next((m) => m.type === 'message' && m.payload.seq === 2);
    const live = watcher.received
      .filter((m) => m.type === 'message')
      .map((m) => (m.payload as ChatMessage).seq);
    expect(live).toEqual([2]);
    // Another user may reuse the same key: it is per sender.
    const other = payloadOf(
      await watcher.request('message', { room_id: 'retry', message: 'mine', client_msg_id: 'k-1' }),
      'message',
    );
    expect(other.seq).toBe(3);
  });
});
