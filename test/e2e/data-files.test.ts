/**
 * Issue 11, items 10 and 12: the data files are private, and a damaged chat.db is refused at
 * start (unless --skip-db-check) instead of failing later one request at a time.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import { chatFixtures } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

const fx = chatFixtures();
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await fx.cleanup();
});

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(3, '0');
}

/** A chat.db with one room and enough messages to span many pages. */
async function filledDatabase(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  await store.createRoom({ room_id: 'lobby', room_name: 'lobby', created_by: 'a', created_ts: 1 });
  await store.append(
    Array.from({ length: 2000 }, (_, i) => ({
      room_id: 'lobby',
      seq: i + 1,
      id: `m${i}`,
      ts: 1,
      user_name: 'a',
      message: 'x'.repeat(200),
      sender_key: 'a',
    })),
  );
  await store.close();
}

describe('data file permissions (issue 11, item 10)', () => {
  it('creates the data directory 0700 and chat.db, -wal, -shm and -lock 0600', async () => {
    const root = fx.tempDir().path;
    const dir = join(root, 'nested', 'chat');
    const server = await fx.spawn(['--data-dir', dir]);
    const c = await TestClient.open(server.url);
    clients.push(c);
    await c.hello('perm');
    await c.request('join', { room_id: 'lobby' });
    await c.request('message', { room_id: 'lobby', message: 'secret' });
    expect(mode(dir)).toBe('700');
    for (const file of ['chat.db', 'chat.db-wal', 'chat.db-shm', 'chat.db-lock'])
      expect([file, mode(join(dir, file))]).toEqual([file, '600']);
  });

  it('tightens files left readable by an older version, and says so; a shared directory is only warned about', async () => {
    const dir = fx.tempDir().path;
    await filledDatabase(join(dir, 'chat.db'));
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'chat.db'), 0o644);
    chmodSync(join(dir, 'chat.db-lock'), 0o644);
    const server = await fx.spawn(['--data-dir', dir]);
    expect(mode(join(dir, 'chat.db'))).toBe('600');
    expect(mode(join(dir, 'chat.db-lock'))).toBe('600');
    // The directory held only chat's files: tightened too.
    expect(mode(dir)).toBe('700');
    await server.stderrMatches(/chat\.db was readable by other users \(mode 0644\); it is now 0600/);
    await server.stderrMatches(/was open to other users \(mode 0755\); it is now 0700/);
    await server.stop();

    // A directory with other things in it (`--data-dir .`) is left as it is, with a warning.
    const shared = fx.tempDir().path;
    writeFileSync(join(shared, 'notes.txt'), 'mine');
    chmodSync(shared, 0o755);
    const second = await fx.spawn(['--data-dir', shared]);
    expect(mode(shared)).toBe('755');
    expect(mode(join(shared, 'chat.db'))).toBe('600');
    await second.stderrMatches(
      /is open to other users \(mode 0755\) and holds other files, so it was left as it is/,
    );
  });
});

describe('damaged database at start (issue 11, item 12)', () => {
  it('refuses a chat.db with a damaged page with a clear message; --skip-db-check starts anyway', async () => {
    const dir = fx.tempDir().path;
    const path = join(dir, 'chat.db');
    await filledDatabase(path);
    const db = new Database(path);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    // Overwrite the header of a page in the middle of the file (a page of the messages table).
    const page = Math.floor(statSync(path).size / pageSize / 2);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, page * pageSize);
    closeSync(fd);

    await expect(fx.spawn(['--data-dir', dir])).rejects.toThrow(
      /exited \(1\).*chat\.db is damaged[^]*restore it from a backup[^]*--skip-db-check/s,
    );
    // The pages the start reads (rooms) are intact: with the check skipped it listens.
    const server = await fx.spawn(['--data-dir', dir, '--skip-db-check']);
    expect(server.port).toBeGreaterThan(0);
  });

  it('refuses a file that is not a database at all', async () => {
    const dir = fx.tempDir().path;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'chat.db'), Buffer.alloc(8192, 0x41));
    await expect(fx.spawn(['--data-dir', dir])).rejects.toThrow(
      /exited \(1\).*chat\.db is damaged or not a database/s,
    );
  });
});
