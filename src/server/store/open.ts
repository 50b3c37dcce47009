import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store-types.js';

/** The database file name inside the data directory. */
export const DB_FILE_NAME = 'chat.db';

/** How `chat serve` persists: `--memory`, `--data-dir`, `--sync`. */
export interface OpenStoreOptions {
  /** Keep nothing on disk. */
  memory?: boolean;
  /** Where `chat.db` lives; defaults to {@link resolveDataDir}. */
  dataDir?: string;
  /** SQLite `synchronous`; `full` makes every acknowledged message survive a power loss. */
  synchronous?: 'normal' | 'full';
  /**
   * Messages kept per room (`--retain`); older ones are deleted as new ones arrive. Default: SQLite
   * keeps everything, memory keeps 10,000.
   */
  retainPerRoom?: number;
  /** Skip `PRAGMA quick_check` at start (`--skip-db-check`), for files too big to read through. */
  skipDbCheck?: boolean;
  /** Told what an operator should know about the data files (see store/permissions.ts). */
  onWarning?(message: string): void;
}

/**
 * The default data directory: `$XDG_DATA_HOME/chat`, else `~/.local/share/chat`.
 * A relative XDG_DATA_HOME is ignored, as the XDG Base Directory spec requires.
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'chat');
  return join(env.HOME || homedir(), '.local', 'share', 'chat');
}

/** Opens the store `chat serve` runs on: memory, or SQLite at `<dataDir>/chat.db` (created if absent). */
export function openStore(options: OpenStoreOptions = {}): Store {
  const retain = options.retainPerRoom !== undefined ? { retainPerRoom: options.retainPerRoom } : {};
  if (options.memory) return new MemoryStore(retain);
  const dataDir = options.dataDir ?? resolveDataDir();
  return new SqliteStore({
    path: join(dataDir, DB_FILE_NAME),
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
    ...retain,
    quickCheck: !options.skipDbCheck,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}
