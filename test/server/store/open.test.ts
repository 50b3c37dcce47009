import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/server/store/memory.js';
import { openStore, resolveDataDir } from '../../../src/server/store/open.js';
import { SqliteStore } from '../../../src/server/store/sqlite.js';

describe('resolveDataDir', () => {
  it.each([
    [{ XDG_DATA_HOME: '/xdg/data', HOME: '/home/ann' }, '/xdg/data/chat'],
    [{ HOME: '/home/ann' }, '/home/ann/.local/share/chat'],
    [{ XDG_DATA_HOME: '', HOME: '/home/ann' }, '/home/ann/.local/share/chat'],
    // The XDG spec says a relative path is invalid and must be ignored.
    [{ XDG_DATA_HOME: 'relative/data', HOME: '/home/ann' }, '/home/ann/.local/share/chat'],
  ])('maps %o to %s', (env, expected) => {
    expect(resolveDataDir(env)).toBe(expected);
  });
});

describe('openStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chat-open-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps nothing on disk with memory', async () => {
    const store = openStore({ memory: true, dataDir: dir });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(existsSync(join(dir, 'chat.db'))).toBe(false);
    await store.close();
  });

  it('creates chat.db inside a missing data directory', async () => {
    const dataDir = join(dir, 'data', 'chat');
    const store = openStore({ dataDir });
    expect(store).toBeInstanceOf(SqliteStore);
    expect(existsSync(join(dataDir, 'chat.db'))).toBe(true);
    await store.close();
  });

  it('passes synchronous full through to SQLite', async () => {
    const store = openStore({ dataDir: dir, synchronous: 'full' }) as SqliteStore;
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
  });
});
