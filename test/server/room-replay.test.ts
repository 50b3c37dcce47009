/**
 * The flow-controlled since_seq replay of the Room actor, with in-memory connections whose
 * buffer the test fills and drains by hand: a page goes out only while the buffer is under the
 * session's reply budget, live messages meanwhile reach the replaying session once, in order,
 * through the replay, its own messages wait for the replay, and retention dropping messages in
 * the middle of a slow replay is reported, never hidden.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../src/protocol/events.js';
import { Room } from '../../src/server/room.js';
import { Session } from '../../src/server/session.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import { MemoryConnection } from '../helpers/memory-connection.js';

/** A connection that counts what is queued to it as buffered until the test drains it. */
class FillingConnection extends MemoryConnection {
  override send(out: Parameters<MemoryConnection['send']>[0]): number {
    super.send(out);
    return (this.buffered += Buffer.byteLength(out.text));
  }
}

async function setup(options: { retain?: number; maxQueueBytes?: number } = {}) {
  const errors: string[] = [];
  const store = new MemoryStore(options.retain !== undefined ? { retainPerRoom: options.retain } : {});
  await store.createRoom({ room_id: 'r', room_name: 'R', created_by: 't', created_ts: 0 });
  const room = new Room('r', 'R', 't', 0, store, {}, (_err, context) => errors.push(context));
  const session = (nick: string, conn: MemoryConnection) => {
    const s = new Session(conn, {
      maxQueueBytes: options.maxQueueBytes ?? 1 << 20,
      onSlowConsumer: () => undefined,
    });
    s.nick = s.nickKey = nick;
    return s;
  };
  const writerConn = new MemoryConnection();
  const writer = session('w', writerConn);
  room.post({ kind: 'join', session: writer, ref: undefined });
  const write = async (n: number, text: (i: number) => string): Promise<void> => {
    for (let i = 0; i < n; i++)
      room.post({ kind: 'message', session: writer, text: text(i), ref: undefined });
    await room.settled();
  };
  return { room, store, errors, session, writer, writerConn, write };
}

/** The room's messages a connection got, replayed and live, in arrival order. */
const stream = (conn: MemoryConnection): ChatMessage[] =>
  conn.received.flatMap((m: ServerMessage) =>
    m.type === 'history' ? m.payload.messages : m.type === 'message' ? [m.payload] : [],
  );
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Drains the connection until the room has no replay under way; returns how many drains it took. */
async function drainAll(room: Room, conn: MemoryConnection): Promise<number> {
  let drains = 0;
  while (room.replaying > 0 && drains < 1000) {
    conn.setBuffered(0);
    drains++;
    await Promise.resolve(); // lets the drained replay post its next step
    await room.settled();
  }
  return drains;
}

describe('Room replay flow control (no sockets)', () => {
  it('sends a page only while the buffer is under the budget; live messages meanwhile arrive once, in order, through the replay', async () => {
    const { room, session, writerConn, write } = await setup();
    await write(3000, (i) => `before ${i} ${'x'.repeat(300)}`); // ~1 MB: several budgets' worth
    const conn = new FillingConnection();
    const reader = session('reader', conn);
    const budget = reader.replyBudget;
    room.post({ kind: 'join', session: reader, sinceSeq: 0, ref: 'j' });
    await room.settled();
    // Pages went out until the buffer passed the budget, then the replay waited for a drain.
    const firstBurst = stream(conn).length;
    expect(firstBurst).toBeGreaterThan(0);
    expect(firstBurst).toBeLessThan(3000);
    expect(conn.waitingForDrain).toBe(true);
    expect(conn.buffered).toBeLessThan(2 * budget);

    // Live traffic while the replay waits: nothing of it reaches the reader live.
    await write(10, (i) => `during ${i}`);
    expect(conn.ofType('message')).toEqual([]);
    // The reader's own message waits for its replay: its seq comes after everything replayed.
    room.post({ kind: 'message', session: reader, text: 'mine', ref: 'm' });
    await room.settled();
    expect(conn.ofType('message')).toEqual([]);
    expect(writerConn.ofType('message').map((m) => m.payload.message)).not.toContain('mine');

    let peak = 0;
    const track = conn.send.bind(conn);
    conn.send = (out) => {
      if (conn.buffered <= budget) peak = Math.max(peak, conn.buffered); // a page is only started under the budget
      return track(out);
    };
    const drains = await drainAll(room, conn);
    expect(room.replaying).toBe(0);
    expect(drains).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(budget);

    const got = stream(conn);
    expect(got.map((m) => m.seq)).toEqual(range(1, 3011));
    expect(got.slice(3000, 3010).map((m) => m.message)).toEqual(range(0, 9).map((i) => `during ${i}`));
    const histories = conn.ofType('history');
    expect(histories.every((h) => h.payload.recovered === true)).toBe(true);
    expect(histories.slice(0, -1).every((h) => h.payload.has_more)).toBe(true);
    expect(histories.at(-1)!.payload.has_more).toBe(false);
    // The held message was committed after the hand-over: acknowledged last, broadcast to the others.
    expect(conn.received.at(-1)).toMatchObject({
      type: 'message',
      ref: 'm',
      payload: { seq: 3011, message: 'mine' },
    });
    expect(writerConn.ofType('message').at(-1)!.payload).toMatchObject({ seq: 3011, message: 'mine' });

    // From now on it is live.
    await write(1, () => 'after');
    expect(conn.received.at(-1)).toMatchObject({ type: 'message', payload: { seq: 3012, message: 'after' } });
  });

  it('a leave during the replay stores the messages the leaver sent while replaying, then announces the leave', async () => {
    const { room, session, writerConn, write } = await setup();
    await write(2000, (i) => `m${i} ${'x'.repeat(300)}`);
    const conn = new FillingConnection();
    const reader = session('reader', conn);
    room.post({ kind: 'join', session: reader, sinceSeq: 0, ref: undefined });
    await room.settled();
    expect(room.replaying).toBe(1);
    room.post({ kind: 'message', session: reader, text: 'sent while replaying', ref: 'm' });
    room.post({ kind: 'leave', session: reader, ref: 'l' });
    await room.settled();
    expect(room.replaying).toBe(0);
    const tail = writerConn.received.slice(-2);
    expect(tail[0]).toMatchObject({
      type: 'message',
      payload: { seq: 2001, message: 'sent while replaying' },
    });
    expect(tail[1]).toMatchObject({ type: 'user_left', payload: { user_name: 'reader' } });
    // A drain after the leave sends nothing more.
    const before = conn.received.length;
    await drainAll(room, conn);
    expect(conn.received.slice(before).some((m) => m.type === 'history')).toBe(false);
  });

  it('says recovered: false from the page where retention dropped messages during a slow replay, and never repeats or skips silently', async () => {
    // A 64 KiB cap gives a 16 KiB reply budget: about 15 messages of 1,000 characters per page.
    const { room, session, write } = await setup({ retain: 100, maxQueueBytes: 64 * 1024 });
    await write(100, (i) => `${i} ${'x'.repeat(1000)}`);
    const conn = new FillingConnection();
    const reader = session('reader', conn);
    room.post({ kind: 'join', session: reader, sinceSeq: 0, ref: undefined });
    await room.settled();
    const firstPage = conn.ofType('history');
    expect(firstPage.length).toBeGreaterThan(0);
    expect(firstPage.every((h) => h.payload.recovered === true)).toBe(true);
    const cursor = stream(conn).at(-1)!.seq;
    expect(cursor).toBeLessThan(50);
    // The room moves on while the reader does not read: the store trims past its cursor.
    await write(100, (i) => `later ${i}`);
    await drainAll(room, conn);
    expect(room.replaying).toBe(0);

    const seqs = stream(conn).map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(200);
    const histories = conn.ofType('history').map((h) => h.payload);
    // The first page whose first message does not follow the last one sent before it.
    let sent = 0;
    const gapAt = histories.findIndex((h) => {
      const jumped = h.messages[0] !== undefined && h.messages[0].seq > sent + 1;
      sent = h.messages.at(-1)?.seq ?? sent;
      return jumped;
    });
    expect(gapAt).toBeGreaterThan(0);
    expect(histories.slice(0, gapAt).every((h) => h.recovered === true)).toBe(true);
    expect(histories.slice(gapAt).every((h) => h.recovered === false)).toBe(true);
  });

  it('a store failure in the middle of a replay ends it with internal_error saying where to resume, and the session goes live', async () => {
    const { room, store, errors, session, write } = await setup();
    await write(2000, (i) => `m${i} ${'x'.repeat(300)}`);
    const conn = new FillingConnection();
    const reader = session('reader', conn);
    room.post({ kind: 'join', session: reader, sinceSeq: 0, ref: 'j' });
    await room.settled();
    const sent = stream(conn).at(-1)!.seq;
    const since = store.since.bind(store);
    store.since = async () => {
      throw new Error('disk gone');
    };
    await drainAll(room, conn);
    expect(room.replaying).toBe(0);
    expect(conn.received.at(-1)).toMatchObject({
      type: 'error',
      ref: 'j',
      payload: { code: 'internal_error' },
    });
    expect(JSON.stringify(conn.received.at(-1))).toContain(`after seq ${sent}`);
    expect(errors.some((e) => e.includes('replay'))).toBe(true);
    store.since = since;
    await write(1, () => 'live again');
    expect(conn.received.at(-1)).toMatchObject({
      type: 'message',
      payload: { seq: 2001, message: 'live again' },
    });
  });
});
