import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/protocol/events.js';
import type { AppendRecord, RoomSettings, Store } from '../../src/server/store/store-types.js';
import { roomRecord } from './room-record.js';

/** A store under test and how to reopen and dispose of it. */
export interface StoreFixture {
  store: Store;
  /** A fresh Store over the same data; the caller has closed the previous one. Absent: nothing persists. */
  reopen?: () => Promise<Store>;
  /** Transactions committed so far by the store last opened, when the implementation counts them. */
  commits?: () => number;
  /** Closes whatever store is open and removes its data. */
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000_000;

/** A record for `room` at `seq`, from `alice` unless told otherwise. */
export function record(room: string, seq: number, extra: Partial<AppendRecord> = {}): AppendRecord {
  return {
    room_id: room,
    seq,
    id: `${room}-${seq}`,
    ts: T0 + seq,
    user_name: 'Alice',
    message: `message ${seq} in ${room}`,
    sender_key: 'alice',
    ...extra,
  };
}

/** What a read returns for a record: the record without its sender key. */
export function stored(r: AppendRecord): ChatMessage {
  const { sender_key: _, ...message } = r;
  return message;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function createRooms(store: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) {
    await store.createRoom({ room_id: id, room_name: `room ${id}`, created_by: 'Alice', created_ts: T0 });
  }
}

/** Appends seq `from..to` to `room`, one `append` per record, all in one turn. */
function appendRange(store: Store, room: string, from: number, to: number): Promise<void[]> {
  return Promise.all(range(from, to).map((seq) => store.append([record(room, seq)])));
}

/**
 * The Store contract (see the doc comment of src/server/store/store-types.ts), run against one
 * implementation. `makeStore` gives a fresh, empty store for every test. `durable` stores (their
 * fixture has `reopen`) also run the reopen checks; a store that keeps nothing has none to run.
 */
export function runStoreContract(
  name: string,
  makeStore: () => Promise<StoreFixture>,
  { durable = false }: { durable?: boolean } = {},
): void {
  describe(`${name} store contract`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('rooms', () => {
      it('returns undefined for an unknown room', async () => {
        expect(await roomRecord(store, 'nope')).toBeUndefined();
      });

      it('creates a room with last_seq 0', async () => {
        await createRooms(store, 'a');
        expect(await roomRecord(store, 'a')).toEqual({
          room_id: 'a',
          room_name: 'room a',
          created_by: 'Alice',
          created_ts: T0,
          last_seq: 0,
        });
      });

      it('keeps the first record when a room is created twice', async () => {
        await createRooms(store, 'a');
        await store.createRoom({ room_id: 'a', room_name: 'other', created_by: 'Bob', created_ts: T0 + 5 });
        expect(await roomRecord(store, 'a')).toMatchObject({ room_name: 'room a', created_by: 'Alice' });
        expect(await store.listRooms()).toHaveLength(1);
      });

      it('lists every room', async () => {
        await createRooms(store, 'a', 'b', 'c');
        const ids = (await store.listRooms()).map((r) => r.room_id).sort();
        expect(ids).toEqual(['a', 'b', 'c']);
      });

      it('deletes a room with its messages; a new room of the id starts afresh; others stay', async () => {
        await createRooms(store, 'a', 'b');
        await appendRange(store, 'a', 1, 3);
        await appendRange(store, 'b', 1, 2);
        await store.deleteRoom('a');
        expect(await roomRecord(store, 'a')).toBeUndefined();
        expect((await store.listRooms()).map((r) => r.room_id)).toEqual(['b']);
        expect(await store.since('a', 0, 10)).toEqual([]);
        expect(await store.since('b', 0, 10)).toHaveLength(2);
        await createRooms(store, 'a');
        expect((await roomRecord(store, 'a'))?.last_seq).toBe(0);
        await store.append([record('a', 1)]);
        expect(await store.since('a', 0, 10)).toEqual([stored(record('a', 1))]);
        if (fixture.reopen) {
          await store.close();
          store = await fixture.reopen();
          expect((await store.listRooms()).map((r) => r.room_id).sort()).toEqual(['a', 'b']);
          expect(await store.since('a', 0, 10)).toHaveLength(1);
        }
      });

      it('reports the highest appended seq as last_seq', async () => {
        await createRooms(store, 'a', 'b');
        await appendRange(store, 'a', 1, 7);
        expect((await roomRecord(store, 'a'))?.last_seq).toBe(7);
        expect((await roomRecord(store, 'b'))?.last_seq).toBe(0);
        const listed = await store.listRooms();
        expect(listed.find((r) => r.room_id === 'a')?.last_seq).toBe(7);
      });
    });

    describe('room settings', () => {
      const settings = (): RoomSettings => ({
        topic: { text: 'release friday', set_by: 'Alice', set_ts: T0 + 1 },
        owner: { key: 'alice', nick: 'Alice' },
        modes: { topic_locked: true, invite_only: false, moderated: true },
        operators: [{ key: 'bob', nick: 'Bob' }],
        voiced: [
          { key: 'carol', nick: 'Carol' },
          { key: 'dan', nick: 'Dan' },
        ],
        bans: [
          { mask: 'eve', set_by: 'Bob', set_ts: T0 + 2 },
          { mask: '*@203.0.113.*', set_by: 'Alice', set_ts: T0 + 3 },
        ],
      });

      it('a new room has none; createRoom may carry them', async () => {
        await createRooms(store, 'a');
        expect((await roomRecord(store, 'a'))?.settings).toBeUndefined();
        await store.createRoom({
          room_id: 'b',
          room_name: 'b',
          created_by: 'Alice',
          created_ts: T0,
          settings: {
            modes: settings().modes,
            owner: { key: 'alice', nick: 'Alice' },
            operators: [],
            voiced: [],
            bans: [],
          },
        });
        expect((await roomRecord(store, 'b'))?.settings).toMatchObject({
          owner: { key: 'alice', nick: 'Alice' },
        });
      });

      it('saves them whole, replaces them whole, and keeps them across a reopen', async () => {
        await createRooms(store, 'a', 'b');
        await store.saveRoomSettings('a', settings());
        expect((await roomRecord(store, 'a'))?.settings).toEqual(settings());
        expect((await roomRecord(store, 'b'))?.settings).toBeUndefined();
        const fewer: RoomSettings = { ...settings(), voiced: [], bans: [settings().bans[1]!] };
        delete fewer.topic;
        await store.saveRoomSettings('a', fewer);
        expect((await roomRecord(store, 'a'))?.settings).toEqual(fewer);
        if (fixture.reopen) {
          await store.close();
          store = await fixture.reopen();
          expect((await roomRecord(store, 'a'))?.settings).toEqual(fewer);
        }
      });

      it('the saved copy does not change with the object it was saved from', async () => {
        await createRooms(store, 'a');
        const s = settings();
        await store.saveRoomSettings('a', s);
        s.bans.push({ mask: 'late', set_by: 'x', set_ts: 0 });
        s.modes.invite_only = true;
        expect((await roomRecord(store, 'a'))?.settings).toEqual(settings());
      });

      it('rejects settings for an unknown room', async () => {
        await expect(store.saveRoomSettings('nope', settings())).rejects.toThrow();
      });

      it('deleting a room deletes its settings; a room made again of the id has none', async () => {
        await createRooms(store, 'a');
        await store.saveRoomSettings('a', settings());
        await store.deleteRoom('a');
        await createRooms(store, 'a');
        expect((await roomRecord(store, 'a'))?.settings).toBeUndefined();
      });
    });

    describe('append and read', () => {
      beforeEach(() => createRooms(store, 'a', 'b'));

      it('reads back appended messages in ascending seq, without the sender key', async () => {
        const records = range(1, 5).map((seq) => record('a', seq));
        await store.append(records.slice(0, 2));
        await store.append(records.slice(2));
        expect(await store.since('a', 0, 100)).toEqual(records.map(stored));
      });

      it('keeps client_msg_id on the stored copy', async () => {
        const r = record('a', 1, { client_msg_id: 'c-1' });
        await store.append([r]);
        expect(await store.since('a', 0, 10)).toEqual([stored(r)]);
      });

      it('keeps the kind of an action and a topic line; a plain message has none', async () => {
        const records = [
          record('a', 1, { kind: 'action', message: 'waves' }),
          record('a', 2, { kind: 'topic', message: 'release on Friday' }),
          record('a', 3),
        ];
        await store.append(records);
        const read = await store.since('a', 0, 10);
        expect(read).toEqual(records.map(stored));
        expect('kind' in read[2]!).toBe(false);
      });

      it('keeps rooms apart', async () => {
        await appendRange(store, 'a', 1, 3);
        await appendRange(store, 'b', 1, 2);
        expect((await store.since('a', 0, 10)).map((m) => m.room_id)).toEqual(['a', 'a', 'a']);
        expect((await store.since('b', 0, 10)).map((m) => m.seq)).toEqual([1, 2]);
      });

      it('pages forward with since: messages after a seq, at most limit', async () => {
        await appendRange(store, 'a', 1, 10);
        const seqs = async (after: number, limit: number) =>
          (await store.since('a', after, limit)).map((m) => m.seq);
        expect(await seqs(3, 4)).toEqual([4, 5, 6, 7]);
        expect(await seqs(8, 100)).toEqual([9, 10]);
        expect(await seqs(10, 5)).toEqual([]);
        expect(await seqs(0, 0)).toEqual([]);
      });

      it('pages back with before: the latest messages below a seq, ascending', async () => {
        await appendRange(store, 'a', 1, 10);
        const seqs = async (before: number | undefined, limit: number) =>
          (await store.before('a', before, limit)).map((m) => m.seq);
        expect(await seqs(undefined, 3)).toEqual([8, 9, 10]);
        expect(await seqs(8, 3)).toEqual([5, 6, 7]);
        expect(await seqs(3, 5)).toEqual([1, 2]);
        expect(await seqs(1, 5)).toEqual([]);
        expect(await seqs(undefined, 100)).toEqual(range(1, 10));
        expect(await seqs(undefined, 0)).toEqual([]);
      });

      it('reads nothing from an empty or unknown room', async () => {
        expect(await store.since('b', 0, 10)).toEqual([]);
        expect(await store.before('b', undefined, 10)).toEqual([]);
        expect(await store.since('nope', 0, 10)).toEqual([]);
        expect(await store.before('nope', undefined, 10)).toEqual([]);
      });

      it('reports the lowest retained seq with firstSeq', async () => {
        expect(await store.firstSeq('a')).toBeUndefined();
        expect(await store.firstSeq('nope')).toBeUndefined();
        await appendRange(store, 'a', 1, 4);
        expect(await store.firstSeq('a')).toBe(1);
      });

      it('rejects an append to an unknown room', async () => {
        await expect(store.append([record('nope', 1)])).rejects.toThrow();
        expect(await store.since('nope', 0, 10)).toEqual([]);
      });

      it('resolves an empty append', async () => {
        await expect(store.append([])).resolves.toBeUndefined();
      });
    });

    describe('seq uniqueness', () => {
      beforeEach(() => createRooms(store, 'a', 'b'));

      it('rejects a duplicate seq while the rest of the same turn commits', async () => {
        const results = await Promise.allSettled([
          store.append([record('a', 1)]),
          store.append([record('a', 2)]),
          store.append([record('a', 2, { id: 'dup', message: 'impostor' })]),
          store.append([record('b', 1)]),
          store.append([record('a', 3)]),
        ]);
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect(await store.since('a', 0, 10)).toEqual([1, 2, 3].map((seq) => stored(record('a', seq))));
        expect(await store.since('b', 0, 10)).toEqual([stored(record('b', 1))]);
        expect((await roomRecord(store, 'a'))?.last_seq).toBe(3);
      });

      it('rejects a duplicate seq appended in a later turn', async () => {
        await appendRange(store, 'a', 1, 2);
        await expect(store.append([record('a', 2, { id: 'dup' })])).rejects.toThrow();
        expect((await store.since('a', 0, 10)).map((m) => m.id)).toEqual(['a-1', 'a-2']);
      });

      it('stores none of the records of a rejected append', async () => {
        await store.append([record('a', 1)]);
        await expect(store.append([record('b', 1), record('a', 2), record('a', 1)])).rejects.toThrow();
        expect((await store.since('a', 0, 10)).map((m) => m.seq)).toEqual([1]);
        expect(await store.since('b', 0, 10)).toEqual([]);
        expect((await roomRecord(store, 'a'))?.last_seq).toBe(1);
        await store.append([record('a', 2)]);
        expect((await store.since('a', 0, 10)).map((m) => m.seq)).toEqual([1, 2]);
      });
    });

    describe('idempotency key', () => {
      beforeEach(() => createRooms(store, 'a', 'b'));

      it('finds the stored copy by room, sender and client_msg_id', async () => {
        const r = record('a', 1, { client_msg_id: 'c-1' });
        await store.append([r, record('a', 2)]);
        expect(await store.findByClientMsgId('a', 'alice', 'c-1')).toEqual(stored(r));
      });

      it('finds nothing for an unknown key, another sender or another room', async () => {
        await store.append([record('a', 1, { client_msg_id: 'c-1' })]);
        expect(await store.findByClientMsgId('a', 'alice', 'c-2')).toBeUndefined();
        expect(await store.findByClientMsgId('a', 'bob', 'c-1')).toBeUndefined();
        expect(await store.findByClientMsgId('b', 'alice', 'c-1')).toBeUndefined();
        expect(await store.findByClientMsgId('nope', 'alice', 'c-1')).toBeUndefined();
      });

      it('rejects a second message with the same sender and client_msg_id, keeping the first', async () => {
        const first = record('a', 1, { client_msg_id: 'c-1' });
        await store.append([first]);
        await expect(
          store.append([record('a', 2, { client_msg_id: 'c-1', message: 'retry' })]),
        ).rejects.toThrow();
        expect(await store.since('a', 0, 10)).toEqual([stored(first)]);
        expect(await store.findByClientMsgId('a', 'alice', 'c-1')).toEqual(stored(first));
      });

      it('rejects the retry alone when both arrive in one turn', async () => {
        const results = await Promise.allSettled([
          store.append([record('a', 1, { client_msg_id: 'c-1' })]),
          store.append([record('a', 2, { client_msg_id: 'c-1' })]),
          store.append([record('a', 3, { client_msg_id: 'c-2' })]),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((await store.since('a', 0, 10)).map((m) => m.seq)).toEqual([1, 3]);
      });

      it('rejects one append that carries the same key twice, storing none of it', async () => {
        const twice = [record('a', 1, { client_msg_id: 'c-1' }), record('a', 2, { client_msg_id: 'c-1' })];
        await expect(store.append(twice)).rejects.toThrow();
        expect(await store.since('a', 0, 10)).toEqual([]);
        expect(await store.findByClientMsgId('a', 'alice', 'c-1')).toBeUndefined();
      });

      it('leaves the same client_msg_id free for another sender and another room', async () => {
        await store.append([record('a', 1, { client_msg_id: 'c-1' })]);
        await store.append([record('a', 2, { client_msg_id: 'c-1', sender_key: 'bob', user_name: 'Bob' })]);
        await store.append([record('b', 1, { client_msg_id: 'c-1' })]);
        expect((await store.findByClientMsgId('a', 'bob', 'c-1'))?.seq).toBe(2);
        expect((await store.findByClientMsgId('b', 'alice', 'c-1'))?.seq).toBe(1);
      });

      it('never collides messages without a client_msg_id', async () => {
        await appendRange(store, 'a', 1, 5);
        expect((await store.since('a', 0, 10)).map((m) => m.seq)).toEqual(range(1, 5));
      });
    });

    describe('batching and close', () => {
      beforeEach(() => createRooms(store, 'a', 'b'));

      it('commits many appends of one turn together and resolves them in append order', async () => {
        const before = fixture.commits?.();
        const order: string[] = [];
        const promises = range(1, 200).map((seq) => {
          const r = record(seq % 2 ? 'a' : 'b', Math.ceil(seq / 2));
          return store.append([r]).then(() => order.push(r.id));
        });
        await Promise.all(promises);
        expect(order).toEqual(range(1, 200).map((seq) => `${seq % 2 ? 'a' : 'b'}-${Math.ceil(seq / 2)}`));
        if (before !== undefined) expect(fixture.commits?.()).toBe(before + 1);
        expect((await store.since('a', 0, 500)).map((m) => m.seq)).toEqual(range(1, 100));
        expect((await roomRecord(store, 'b'))?.last_seq).toBe(100);
      });

      it('flushes pending appends on close', async () => {
        const pending = appendRange(store, 'a', 1, 50);
        await store.close();
        await expect(pending).resolves.toHaveLength(50);
        if (fixture.reopen) {
          store = await fixture.reopen();
          expect((await store.since('a', 0, 100)).map((m) => m.seq)).toEqual(range(1, 50));
          expect((await roomRecord(store, 'a'))?.last_seq).toBe(50);
        }
      });

      it('closes idempotently and rejects appends after close', async () => {
        await store.close();
        await store.close();
        await expect(store.append([record('a', 1)])).rejects.toThrow(/closed/);
      });
    });

    describe('users', () => {
      const alice = {
        nick_key: 'alice',
        user_name: 'Alice',
        password_hash: 'scrypt$1$1$1$c2FsdA==$aGFzaA==',
        created_ts: T0,
      };

      it('returns undefined for an unregistered nick', async () => {
        expect(await store.getUser('alice')).toBeUndefined();
      });

      it('stores a user and replaces it on re-registration', async () => {
        await store.putUser(alice);
        expect(await store.getUser('alice')).toEqual(alice);
        const again = { ...alice, user_name: 'ALICE', password_hash: 'scrypt$1$1$1$b3RoZXI=$b3RoZXI=' };
        await store.putUser(again);
        expect(await store.getUser('alice')).toEqual(again);
        expect(await store.getUser('bob')).toBeUndefined();
      });
    });

    // Registered only for durable stores: the memory store has no reopen to test, and says so by not listing it.
    if (durable)
      describe('reopen', () => {
        it('keeps rooms, messages, idempotency keys and users, and seq continues', async () => {
          if (!fixture.reopen) throw new Error(`${name}: a durable store's fixture needs reopen`);
          await createRooms(store, 'a', 'b', 'c');
          await appendRange(store, 'a', 1, 30);
          await appendRange(store, 'b', 1, 3);
          const keyed = record('c', 1, { client_msg_id: 'c-1' });
          await store.append([keyed]);
          const user = { nick_key: 'alice', user_name: 'Alice', password_hash: 'h', created_ts: T0 };
          await store.putUser(user);
          const rooms = await store.listRooms();
          const history = await store.since('a', 0, 100);
          await store.close();

          store = await fixture.reopen();
          expect(await store.listRooms()).toEqual(rooms);
          expect((await roomRecord(store, 'a'))?.last_seq).toBe(30);
          expect(await store.since('a', 0, 100)).toEqual(history);
          expect(await store.findByClientMsgId('c', 'alice', 'c-1')).toEqual(stored(keyed));
          expect(await store.getUser('alice')).toEqual(user);

          await store.append([record('a', 31)]);
          expect((await roomRecord(store, 'a'))?.last_seq).toBe(31);
          await expect(store.append([record('a', 30, { id: 'dup' })])).rejects.toThrow();
          await expect(store.append([record('c', 2, { client_msg_id: 'c-1' })])).rejects.toThrow();
          expect((await store.since('a', 0, 100)).map((m) => m.seq)).toEqual(range(1, 31));
        });
      });
  });

  describe(`${name} store property`, () => {
    it('reads back random interleavings of appends across rooms gap-free and in order', async () => {
      const rooms = ['r0', 'r1', 'r2'];
      // Each inner array is one event-loop turn of appends, by room index.
      const turns = fc.array(fc.array(fc.nat({ max: rooms.length - 1 }), { maxLength: 25 }), {
        maxLength: 8,
      });
      await fc.assert(
        fc.asyncProperty(turns, fc.nat({ max: 9 }), async (plan, pageSize) => {
          const { store, cleanup } = await makeStore();
          try {
            await createRooms(store, ...rooms);
            const appended = new Map<string, ChatMessage[]>(rooms.map((r) => [r, []]));
            for (const turn of plan) {
              const inFlight = turn.map((i) => {
                const room = rooms[i]!;
                const log = appended.get(room)!;
                const r = record(
                  room,
                  log.length + 1,
                  log.length % 3 === 0 ? { client_msg_id: `k${log.length}` } : {},
                );
                log.push(stored(r));
                return store.append([r]);
              });
              await Promise.all(inFlight);
            }
            for (const room of rooms) {
              const expected = appended.get(room)!;
              expect(await store.since(room, 0, 1000)).toEqual(expected);
              expect((await roomRecord(store, room))?.last_seq).toBe(expected.length);
              // Paging back in pages of pageSize + 1 rebuilds the same history.
              const paged: ChatMessage[] = [];
              for (let page = await store.before(room, undefined, pageSize + 1); page.length > 0;) {
                paged.unshift(...page);
                page = await store.before(room, page[0]!.seq, pageSize + 1);
              }
              expect(paged).toEqual(expected);
            }
          } finally {
            await cleanup();
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}
