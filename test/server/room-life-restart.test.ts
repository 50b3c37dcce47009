import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/server/store/migrations.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import type { RunningServer } from '../../src/server/server.js';
import { startTestServer } from '../helpers/test-server.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Issue 14 with real SQLite in a temp dir: actions survive a restart, and schema step 3 folds
 * rooms whose ids differ only in case (the oldest keeps its id, the others get a suffix).
 */

let dir: string;
const open: { close(): unknown }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chat-life-'));
});
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(): Promise<RunningServer> {
  return startTestServer({ dataDir: dir, rateLimit: false });
}

describe('across a restart', () => {
  it('keeps actions as actions in history, and the room answers to any case', async () => {
    let server = await serve();
    let c = await TestClient.open(server.url);
    await c.hello('alice');
    await c.request('join', { room_id: 'Dev' });
    await c.request('message', { room_id: 'Dev', message: 'waves', kind: 'action' });
    await c.request('message', { room_id: 'Dev', message: 'plain words' });
    c.close();
    await server.close();

    server = await serve();
    open.push(server);
    c = await TestClient.open(server.url);
    open.push(c);
    await c.hello('bob');
    const joined = await c.request('join', { room_id: 'DEV' });
    expect(joined.payload).toMatchObject({ room_id: 'Dev', last_seq: 2 });
    const page = await c.next((m) => m.type === 'history' && m.payload.room_id === 'Dev');
    expect(page.type === 'history' && page.payload.messages.map((m) => [m.message, m.kind])).toEqual([
      ['waves', 'action'],
      ['plain words', undefined],
    ]);
  });
});

describe('schema step 3', () => {
  /** A database at schema 2 holding rooms that differ only in case, as an older build could write. */
  function version2(path: string): void {
    const db = new Database(path);
    db.pragma('foreign_keys = ON');
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 2),
    );
    const room = db.prepare(
      'INSERT INTO rooms (room_id, room_name, created_by, created_ts, last_seq) VALUES (?, ?, ?, ?, ?)',
    );
    room.run('dev', 'dev', 'alice', 100, 1);
    room.run('DEV', 'DEV', 'bob', 200, 1);
    room.run('Dev', 'Dev', 'carol', 50, 0);
    room.run('dev-2', 'dev-2', 'dave', 300, 0);
    const msg = db.prepare(
      "INSERT INTO messages (room_id, seq, id, ts, user_name, sender_key, message) VALUES (?, 1, ?, 1, 'x', 'x', ?)",
    );
    msg.run('dev', 'm1', 'in dev');
    msg.run('DEV', 'm2', 'in DEV');
    db.close();
  }

  it('keeps the oldest id, renames the others with a free suffix, moves their messages and says so', async () => {
    const path = join(dir, 'chat.db');
    version2(path);
    const notes: string[] = [];
    const store = new SqliteStore({ path, onWarning: (n) => notes.push(n) });
    open.push(store);
    const ids = (await store.listRooms()).map((r) => r.room_id).sort();
    // Dev (created_ts 50) is the oldest and keeps its id; dev-2 was taken, so dev gets -3, DEV -4.
    expect(ids).toEqual(['DEV-4', 'Dev', 'dev-2', 'dev-3'].sort());
    expect((await store.before('dev-3', undefined, 10)).map((m) => m.message)).toEqual(['in dev']);
    expect((await store.before('DEV-4', undefined, 10)).map((m) => m.message)).toEqual(['in DEV']);
    expect(notes.filter((n) => n.includes('renamed'))).toHaveLength(2);
    expect(store.database.pragma('foreign_key_check')).toEqual([]);
  });

  it('a server on that file serves each renamed room under its new id', async () => {
    version2(join(dir, 'chat.db'));
    const server = await serve();
    open.push(server);
    const c = await TestClient.open(server.url);
    open.push(c);
    await c.hello('erin');
    const rooms = await c.request('rooms', {});
    const listed = rooms.type === 'rooms' ? rooms.payload.rooms.map((r) => r.room_id) : [];
    expect(listed).toEqual(expect.arrayContaining(['Dev', 'dev-3', 'DEV-4', 'dev-2']));
    const joined = await c.request('join', { room_id: 'dev' });
    expect(joined.payload).toMatchObject({ room_id: 'Dev' });
  });
});
