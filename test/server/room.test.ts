import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/protocol/events.js';
import { Room } from '../../src/server/room.js';
import { Session } from '../../src/server/session.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import type { AppendRecord } from '../../src/server/store/store-types.js';
import { MemoryConnection } from '../helpers/memory-connection.js';

async function setup() {
  const store = new MemoryStore();
  await store.createRoom({ room_id: 'r', room_name: 'R', created_by: 't', created_ts: 0 });
  const room = new Room('r', 'R', 't', 0, store);
  const member = (nick: string) => {
    const conn = new MemoryConnection();
    const session = new Session(conn, { maxQueueBytes: 1 << 20, onSlowConsumer: () => undefined });
    session.nick = nick;
    session.nickKey = nick;
    return { conn, session };
  };
  return { store, room, member };
}

const messages = (conn: MemoryConnection) => conn.ofType('message').map((m) => m.payload);

describe('Room actor (no sockets)', () => {
  it('handles its mailbox in order: a join queued after messages sees them as history, not live', async () => {
    const { room, member } = await setup();
    const a = member('a');
    const b = member('b');
    room.post({ kind: 'join', session: a.session, ref: undefined });
    room.post({ kind: 'message', session: a.session, text: 'one', ref: undefined });
    room.post({ kind: 'message', session: a.session, text: 'two', ref: undefined });
    room.post({ kind: 'join', session: b.session, ref: undefined });
    room.post({ kind: 'message', session: a.session, text: 'three', ref: undefined });
    await room.settled();
    expect(messages(a.conn).map((m) => [m.seq, m.message])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    const history = b.conn.ofType('history')[0]!.payload.messages.map((m: ChatMessage) => m.message);
    expect(history).toEqual(['one', 'two']);
    expect(messages(b.conn).map((m) => m.message)).toEqual(['three']);
  });

  it('commits consecutive queued messages as one batch and acknowledges only after the commit', async () => {
    const { room, member, store } = await setup();
    const a = member('a');
    room.post({ kind: 'join', session: a.session, ref: undefined });
    await room.settled();
    const batches: number[] = [];
    const append = store.append.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    store.append = async (records: AppendRecord[]) => {
      batches.push(records.length);
      await gate;
      return append(records);
    };
    for (let i = 0; i < 5; i++)
      room.post({ kind: 'message', session: a.session, text: `m${i}`, ref: undefined });
    await new Promise((r) => setImmediate(r));
    expect(messages(a.conn)).toEqual([]); // nothing acknowledged before the commit
    release();
    await room.settled();
    expect(batches).toEqual([5]);
    expect(messages(a.conn).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failed commit acknowledges nothing, answers internal_error and reuses the seqs', async () => {
    const { room, member, store } = await setup();
    const a = member('a');
    room.post({ kind: 'join', session: a.session, ref: undefined });
    const append = store.append.bind(store);
    store.append = async () => {
      throw new Error('disk full');
    };
    room.post({ kind: 'message', session: a.session, text: 'lost', ref: 'x' });
    await room.settled();
    expect(a.conn.ofType('error')[0]).toMatchObject({ ref: 'x', payload: { code: 'internal_error' } });
    store.append = append;
    room.post({ kind: 'message', session: a.session, text: 'kept', ref: undefined });
    await room.settled();
    expect(messages(a.conn).map((m) => [m.seq, m.message])).toEqual([[1, 'kept']]);
  });

  it('a retried client_msg_id is acknowledged again but stored and broadcast once', async () => {
    const { room, member, store } = await setup();
    const a = member('a');
    const b = member('b');
    room.post({ kind: 'join', session: a.session, ref: undefined });
    room.post({ kind: 'join', session: b.session, ref: undefined });
    room.post({ kind: 'message', session: a.session, text: 'once', clientMsgId: 'c1', ref: 1 });
    room.post({ kind: 'message', session: a.session, text: 'once', clientMsgId: 'c1', ref: 2 });
    await room.settled();
    room.post({ kind: 'message', session: a.session, text: 'once', clientMsgId: 'c1', ref: 3 });
    await room.settled();
    expect(await store.since('r', 0, 10)).toHaveLength(1);
    expect(messages(b.conn)).toHaveLength(1);
    const acks = a.conn.ofType('message').filter((m) => m.ref !== undefined);
    expect(acks.map((m) => [m.ref, m.payload.seq])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it('serialises each broadcast once for all members', async () => {
    const { room, member } = await setup();
    const members = Array.from({ length: 3 }, (_, i) => member(`m${i}`));
    const seen = new Set<unknown>();
    for (const m of members) {
      const send = m.conn.send.bind(m.conn);
      m.conn.send = (out) => {
        seen.add(out);
        return send(out);
      };
      room.post({ kind: 'join', session: m.session, ref: undefined });
    }
    await room.settled();
    seen.clear();
    room.post({ kind: 'message', session: members[0]!.session, text: 'hi', ref: undefined });
    await room.settled();
    expect(seen.size).toBe(1);
  });

  it('a leave is broadcast to the room and the leaver; leaving twice is not_in_room', async () => {
    const { room, member } = await setup();
    const a = member('a');
    const b = member('b');
    room.post({ kind: 'join', session: a.session, ref: undefined });
    room.post({ kind: 'join', session: b.session, ref: undefined });
    room.post({ kind: 'leave', session: b.session, ref: 'l1' });
    room.post({ kind: 'leave', session: b.session, ref: 'l2' });
    await room.settled();
    expect(a.conn.ofType('user_left')[0]?.payload).toEqual({ room_id: 'r', user_name: 'b' });
    expect(b.conn.ofType('user_left')[0]?.ref).toBe('l1');
    expect(b.conn.ofType('error')[0]).toMatchObject({ ref: 'l2', payload: { code: 'not_in_room' } });
    expect(room.memberNames()).toEqual(['a']);
  });

  it('resumes with since_seq: replays exactly what was missed, and says when retention lost some', async () => {
    const store = new MemoryStore({ retainPerRoom: 20 });
    await store.createRoom({ room_id: 'r', room_name: 'R', created_by: 't', created_ts: 0 });
    const room = new Room('r', 'R', 't', 0, store);
    const conn = new MemoryConnection();
    const writer = new Session(conn, { maxQueueBytes: 1 << 20, onSlowConsumer: () => undefined });
    writer.nick = writer.nickKey = 'w';
    room.post({ kind: 'join', session: writer, ref: undefined });
    for (let i = 1; i <= 40; i++)
      room.post({ kind: 'message', session: writer, text: `m${i}`, ref: undefined });
    await room.settled();
    const reader = (since: number) => {
      const c = new MemoryConnection();
      const s = new Session(c, { maxQueueBytes: 1 << 20, onSlowConsumer: () => undefined });
      s.nick = s.nickKey = `r${since}`;
      room.post({ kind: 'join', session: s, sinceSeq: since, ref: undefined });
      return c;
    };
    const recent = reader(35);
    const old = reader(2);
    await room.settled();
    const recentHistory = recent.ofType('history')[0]!.payload;
    expect(recentHistory.messages.map((m: ChatMessage) => m.seq)).toEqual([36, 37, 38, 39, 40]);
    expect(recentHistory.recovered).toBe(true);
    const oldHistory = old.ofType('history')[0]!.payload;
    expect(oldHistory.recovered).toBe(false);
    expect(oldHistory.messages[0]!.seq).toBeGreaterThan(3);
  });
});
