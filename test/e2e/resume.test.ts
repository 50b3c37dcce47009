/**
 * Issue 4, resume: a client that was away rejoins with `since_seq` and gets exactly what it
 * missed, in order, then live traffic, with no gap and no duplicate; when retention dropped part
 * of the gap, the replay says `recovered: false`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerEventPayloads, ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import type { Store } from '../../src/server/store/store-types.js';
import { tempDir } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

type History = ServerEventPayloads['history'];

const ROOM = 'resume';
const servers: RunningServer[] = [];
const clients: TestClient[] = [];
const dirs: { remove(): void }[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) d.remove();
});

async function serve(store: Store = new MemoryStore()): Promise<RunningServer> {
  const server = await startTestServer({
    store,
    rateLimit: false,
  });
  servers.push(server);
  return server;
}

/** A client identified as `nick` and in the room (its join history received). */
async function member(server: RunningServer, nick: string, sinceSeq?: number): Promise<TestClient> {
  const c = await TestClient.open(server.url);
  clients.push(c);
  await c.hello(nick);
  const joined = await c.request('join', {
    room_id: ROOM,
    ...(sinceSeq !== undefined ? { since_seq: sinceSeq } : {}),
  });
  expect(joined.type, JSON.stringify(joined)).toBe('joined');
  return c;
}

const isMessage = (m: ServerMessage): m is Extract<ServerMessage, { type: 'message' }> =>
  m.type === 'message';
const isHistory = (m: ServerMessage): m is Extract<ServerMessage, { type: 'history' }> =>
  m.type === 'history';
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Sends `count` messages pipelined and resolves with their acknowledgements, in order. */
async function sendMany(c: TestClient, count: number, label: string): Promise<ChatMessage[]> {
  const replies = await Promise.all(
    range(1, count).map((i) => c.request('message', { room_id: ROOM, message: `${label} ${i}` })),
  );
  return replies.map((m) => {
    if (!isMessage(m)) throw new Error(JSON.stringify(m));
    return m.payload;
  });
}

/** Leaves by closing the socket and waits until the room has seen it go. */
async function drop(c: TestClient, nick: string, witness: TestClient): Promise<void> {
  const gone = witness.next((m) => m.type === 'user_left' && m.payload.user_name === nick);
  c.close();
  await gone;
}

/** Everything a client received in the room after `joined`: replayed and live messages. */
function seen(c: TestClient): { histories: History[]; replayed: ChatMessage[]; live: ChatMessage[] } {
  const histories = c.received.filter(isHistory).map((m) => m.payload);
  return {
    histories,
    replayed: histories.flatMap((h) => h.messages),
    live: c.received.filter((m) => isMessage(m) && m.ref === undefined).map((m) => m.payload as ChatMessage),
  };
}

describe('join with since_seq over WebSocket', () => {
  it('replays exactly the 100 messages missed, in order, then live traffic, none twice', async () => {
    const server = await serve();
    const alice = await member(server, 'alice');
    const bob = await member(server, 'bob');
    await sendMany(alice, 5, 'before');
    const last = (await bob.next((m) => isMessage(m) && m.payload.seq === 5)).payload as ChatMessage;
    await drop(bob, 'bob', alice);

    const missed = await sendMany(alice, 100, 'while away');
    const back = await member(server, 'bob', last.seq);
    // One more after the replay: it must arrive live, once.
    const live = (await sendMany(alice, 1, 'after'))[0]!;
    await back.next((m) => isMessage(m) && m.payload.seq === live.seq);

    const { histories, replayed, live: liveSeen } = seen(back);
    expect(histories.every((h) => h.recovered === true && h.room_id === ROOM)).toBe(true);
    expect(histories.at(-1)!.has_more).toBe(false);
    expect(replayed).toEqual(missed);
    expect(liveSeen).toEqual([live]);
  });

  it('pages a long replay (1,200 missed) and still misses nothing', async () => {
    const server = await serve();
    const alice = await member(server, 'alice');
    const missed = await sendMany(alice, 1_200, 'bulk');
    const bob = await member(server, 'bob', 0);
    await bob.next((m) => isHistory(m) && !m.payload.has_more);
    const { histories, replayed } = seen(bob);
    expect(histories.length).toBeGreaterThan(1);
    expect(histories.slice(0, -1).every((h) => h.has_more)).toBe(true);
    expect(replayed).toEqual(missed);
  });

  it('has no gap and no duplicate when messages keep arriving during the resume', async () => {
    const server = await serve();
    const alice = await member(server, 'alice');
    const bob = await member(server, 'bob');
    await sendMany(alice, 3, 'warm-up');
    await bob.next((m) => isMessage(m) && m.payload.seq === 3);
    await drop(bob, 'bob', alice);

    // 400 messages in flight: half before bob's join is sent, half in the same breath as it.
    const early = sendMany(alice, 200, 'early');
    const back = await TestClient.open(server.url);
    clients.push(back);
    await back.hello('bob');
    const joined = back.request('join', { room_id: ROOM, since_seq: 3 });
    const late = sendMany(alice, 200, 'late');
    expect((await joined).type).toBe('joined');
    const acks = [...(await early), ...(await late)];
    const head = Math.max(...acks.map((m) => m.seq));
    await back.next(
      (m) =>
        (isMessage(m) && m.payload.seq === head) || (isHistory(m) && m.payload.messages.at(-1)?.seq === head),
    );
    const { replayed, live } = seen(back);
    expect([...replayed, ...live].map((m) => m.seq)).toEqual(range(4, 403));
    expect([...replayed, ...live]).toEqual([...acks].sort((a, b) => a.seq - b.seq));
  });

  it('answers a since_seq at the head with an empty, recovered replay', async () => {
    const server = await serve();
    const alice = await member(server, 'alice');
    await sendMany(alice, 3, 'x');
    const bob = await member(server, 'bob', 3);
    const history = (await bob.next(isHistory)).payload;
    expect(history).toEqual({ room_id: ROOM, messages: [], has_more: false, recovered: true });
  });

  it('says recovered: false for a since_seq past the head (history from a server that forgot it)', async () => {
    const server = await serve();
    const alice = await member(server, 'alice');
    await sendMany(alice, 3, 'x');
    // bob's seq 500 comes from before a restart without storage: this room only reached 3.
    const bob = await member(server, 'bob', 500);
    const history = (await bob.next(isHistory)).payload;
    expect(history).toEqual({ room_id: ROOM, messages: [], has_more: false, recovered: false });
  });
});

const retainingStores: [string, () => Store][] = [
  ['MemoryStore', () => new MemoryStore({ retainPerRoom: 20 })],
  [
    'SqliteStore',
    () => {
      const dir = tempDir();
      dirs.push(dir);
      return new SqliteStore({ path: join(dir.path, 'chat.db'), retainPerRoom: 20 });
    },
  ],
];

describe.each(retainingStores)('resume past retention (%s, 20 per room)', (_name, makeStore) => {
  it('replays what is left with recovered: false, and a resume inside the window with recovered: true', async () => {
    const server = await serve(makeStore());
    const alice = await member(server, 'alice');
    const all = await sendMany(alice, 100, 'kept?');

    const stale = await member(server, 'bob', 1);
    await stale.next((m) => isHistory(m) && !m.payload.has_more);
    const { histories, replayed } = seen(stale);
    expect(histories.every((h) => h.recovered === false)).toBe(true);
    // What is left is the newest tail, in order, ending at the head.
    expect(replayed.length).toBeGreaterThanOrEqual(20);
    expect(replayed).toEqual(all.slice(-replayed.length));

    const fresh = await member(server, 'carol', 90);
    await fresh.next(isHistory);
    const recent = seen(fresh);
    expect(recent.histories.every((h) => h.recovered === true)).toBe(true);
    expect(recent.replayed).toEqual(all.slice(90));
  });
});

describe('resume when retention kept nothing at all', () => {
  it('says recovered: false rather than pretending the gap was filled', async () => {
    const server = await serve(new MemoryStore({ retainPerRoom: 0 }));
    const alice = await member(server, 'alice');
    await sendMany(alice, 10, 'gone');
    const bob = await member(server, 'bob', 2);
    const history = (await bob.next(isHistory)).payload;
    expect(history).toEqual({ room_id: ROOM, messages: [], has_more: false, recovered: false });
  });
});
