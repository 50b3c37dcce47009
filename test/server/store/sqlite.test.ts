import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../src/server/store/migrations.js';
import { SqliteStore } from '../../../src/server/store/sqlite.js';
import { WriteCoalescer } from '../../../src/server/transports/write-coalescer.js';
import type { SqliteStoreOptions } from '../../../src/server/store/sqlite.js';
import { record, runStoreContract, stored } from '../../helpers/store-contract.js';
import { roomRecord } from '../../helpers/room-record.js';

/** Opens the file read-only and asks SQLite whether it is sound. */
function integrityCheck(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

runStoreContract(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const path = join(dir, 'chat.db');
    let current = new SqliteStore({ path });
    return {
      store: current,
      reopen: async () => (current = new SqliteStore({ path })),
      commits: () => current.stats.transactions,
      cleanup: async () => {
        await current.close();
        expect(integrityCheck(path)).toBe('ok');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);

/** A store whose commits open the flushes of a write coalescer, as the server wires it. */
function ledByCoalescer(store: SqliteStore): SqliteStore {
  const coalescer = new WriteCoalescer();
  coalescer.lead(() => store.commitPending());
  store.commitWhen(() => coalescer.wake());
  return store;
}

runStoreContract(
  'sqlite, commits led by a write coalescer',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const path = join(dir, 'chat.db');
    let current = ledByCoalescer(new SqliteStore({ path }));
    return {
      store: current,
      reopen: async () => (current = ledByCoalescer(new SqliteStore({ path }))),
      commits: () => current.stats.transactions,
      cleanup: async () => {
        await current.close();
        expect(integrityCheck(path)).toBe('ok');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);

describe('SqliteStore', () => {
  let dir: string;
  let open: SqliteStore[];

  const make = (options: Partial<SqliteStoreOptions> = {}, path = join(dir, 'chat.db')): SqliteStore => {
    const store = new SqliteStore({ path, ...options });
    open.push(store);
    return store;
  };
  const roomA = { room_id: 'a', room_name: 'A', created_by: 'Alice', created_ts: 1 };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-sqlite-'));
    open = [];
  });
  afterEach(async () => {
    for (const store of open) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the file and its missing directories on first start, at the current schema', () => {
    const path = join(dir, 'nested', 'deeper', 'chat.db');
    const store = make({}, path);
    expect(existsSync(path)).toBe(true);
    expect(store.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('uses synchronous NORMAL by default and FULL when asked', async () => {
    // SQLite reports NORMAL as 1 and FULL as 2.
    expect(make().database.pragma('synchronous', { simple: true })).toBe(1);
    expect(
      make({ synchronous: 'full' }, join(dir, 'full.db')).database.pragma('synchronous', { simple: true }),
    ).toBe(2);
  });

  it('reopens an existing file without migrating it again', async () => {
    const first = make();
    await first.createRoom(roomA);
    await first.close();
    const second = make();
    expect(second.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(await roomRecord(second, 'a')).toMatchObject({ room_name: 'A' });
  });

  it('refuses a database written by a newer schema', () => {
    const path = join(dir, 'future.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => make({}, path)).toThrow(/newer/);
  });

  it('commits each append in its own transaction when batching is off', async () => {
    const store = make({ batch: false });
    await store.createRoom(roomA);
    await Promise.all([1, 2, 3, 4].map((seq) => store.append([record('a', seq)])));
    expect(store.stats).toEqual({ transactions: 4, records: 4 });
    await expect(store.append([record('a', 4)])).rejects.toThrow();
    expect((await store.since('a', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('commits one turn of appends as one transaction', async () => {
    const store = make();
    await store.createRoom(roomA);
    await Promise.all([1, 2, 3, 4].map((seq) => store.append([record('a', seq)])));
    expect(store.stats).toEqual({ transactions: 1, records: 4 });
  });

  it('with its commits timed from outside, asks once and commits every append since the last commit when told', async () => {
    const store = make();
    await store.createRoom(roomA);
    let requests = 0;
    store.commitWhen(() => requests++);
    const settled: number[] = [];
    const first = [1, 2].map((seq) => store.append([record('a', seq)]).then(() => settled.push(seq)));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // Two turns later nothing is committed or resolved: the store waits to be told.
    expect([requests, settled.length, store.stats.transactions]).toEqual([1, 0, 0]);
    const later = store.append([record('a', 3)]).then(() => settled.push(3));
    expect(requests).toBe(1);
    expect(store.commitPending()).toBe(true);
    await Promise.all([...first, later]);
    expect(settled).toEqual([1, 2, 3]);
    expect(store.stats).toEqual({ transactions: 1, records: 3 });
    expect(store.commitPending()).toBe(false);
    // The next append asks again; handing the timing back commits it at the end of the turn.
    const fourth = store.append([record('a', 4)]);
    expect(requests).toBe(2);
    store.commitWhen(undefined);
    await fourth;
    expect(store.stats).toEqual({ transactions: 2, records: 4 });
  });

  it('commits appends still waiting for their timed commit when it closes', async () => {
    const path = join(dir, 'closing.db');
    const store = make({}, path);
    await store.createRoom(roomA);
    store.commitWhen(() => {});
    const appended = store.append([record('a', 1)]);
    await store.close();
    await appended;
    const again = make({}, path);
    expect((await again.since('a', 0, 10)).map((m) => m.seq)).toEqual([1]);
  });

  it('rejects a record of the wrong type alone, keeping the rest of its turn', async () => {
    const store = make();
    await store.createRoom(roomA);
    const bad = { ...record('a', 2), ts: 'yesterday' as unknown as number };
    const results = await Promise.allSettled(
      [1, 2, 3].map((seq) => store.append([seq === 2 ? bad : record('a', seq)])),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.since('a', 0, 10)).toEqual([stored(record('a', 1)), stored(record('a', 3))]);
  });

  it('keeps only the newest messages of a room under retention, and last_seq across reopen', async () => {
    const store = make({ retainPerRoom: 5 });
    await store.createRoom(roomA);
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.append([record('a', i + 1)])));
    expect(await store.firstSeq('a')).toBe(8);
    expect((await store.since('a', 0, 100)).map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    await store.close();
    const reopened = make({ retainPerRoom: 5 });
    expect((await roomRecord(reopened, 'a'))?.last_seq).toBe(12);
  });

  it('leaves a sound file after a workload and a close', async () => {
    const path = join(dir, 'chat.db');
    const store = make({}, path);
    await store.createRoom(roomA);
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.append([record('a', i + 1)])));
    await store.close();
    expect(integrityCheck(path)).toBe('ok');
  });

  it('checkpoints the WAL on a worker connection, leaving the writer only a backstop', async () => {
    const store = make({ checkpointDelayMs: 60_000 });
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    await store.createRoom(roomA);
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.append([record('a', i + 1)])));
    const result = await store.checkpoint();
    expect(result?.busy).toBe(0);
    expect(result?.log).toBeGreaterThan(0);
    expect(result?.checkpointed).toBe(result?.log);
  });

  it('runs a checkpoint by itself after commits', async () => {
    const store = make({ checkpointDelayMs: 1 });
    await store.createRoom(roomA);
    expect(store.checkpoints).toBe(0);
    await store.append([record('a', 1)]);
    for (let i = 0; i < 500 && store.checkpoints === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(store.checkpoints).toBeGreaterThan(0);
  });

  it('leaves checkpoints to SQLite when asked to', async () => {
    const store = make({ checkpointDelayMs: 0 });
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(await store.checkpoint()).toBeUndefined();
  });

  it('closes the worker connection too, so no WAL is left behind', async () => {
    const path = join(dir, 'chat.db');
    const store = make({}, path);
    await store.createRoom(roomA);
    await store.append([record('a', 1)]);
    await store.checkpoint(); // the worker's connection is open
    expect(existsSync(`${path}-wal`)).toBe(true);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(integrityCheck(path)).toBe('ok');
  });
});
