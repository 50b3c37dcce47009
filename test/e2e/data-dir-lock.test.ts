/**
 * One server per data directory. Without a lock a second `chat serve` on the same chat.db starts,
 * assigns the seqs the first one already used, and answers every message with internal_error.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import { spawnChat, tempDir, type ChatProcess } from '../helpers/chat-process.js';
import { roomRecord } from '../helpers/room-record.js';

const running: ChatProcess[] = [];
const dirs: { remove(): void }[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const d of dirs.splice(0)) d.remove();
});

function freshDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.path;
}

describe('the data directory lock', () => {
  it('refuses a second store on the same file until the first is closed', async () => {
    const path = join(freshDir(), 'chat.db');
    const first = new SqliteStore({ path });
    stores.push(first);
    expect(() => new SqliteStore({ path })).toThrow(/is in use by another chat server/);
    await first.createRoom({ room_id: 'r', room_name: 'r', created_by: 'a', created_ts: 1 });
    // chat.db itself stays readable by other tools while the server runs.
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT room_id FROM rooms').pluck().all()).toEqual(['r']);
    reader.close();
    await first.close();
    const second = new SqliteStore({ path });
    stores.push(second);
    expect(await roomRecord(second, 'r')).toMatchObject({ room_id: 'r' });
  });

  it('makes a second chat serve on the same --data-dir exit with a clear message', async () => {
    const dir = freshDir();
    const first = await spawnChat(['--data-dir', dir]);
    running.push(first);
    await expect(spawnChat(['--data-dir', dir])).rejects.toThrow(
      /exited \(1\).*is in use by another chat server/s,
    );
    // Another directory is fine alongside.
    const other = await spawnChat(['--data-dir', freshDir()]);
    running.push(other);
  });

  it('is released by a SIGKILL: the next start on the directory succeeds', async () => {
    const dir = freshDir();
    const first = await spawnChat(['--data-dir', dir]);
    running.push(first);
    expect(await first.kill()).toBe('SIGKILL');
    const second = await spawnChat(['--data-dir', dir]);
    running.push(second);
    expect(await second.stop()).toBe(0);
  });
});
