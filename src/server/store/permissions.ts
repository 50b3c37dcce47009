import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Mode of the data directory chat creates: only its owner may list or enter it. */
export const DATA_DIR_MODE = 0o700;

/** Mode of every data file: all messages and password hashes are in them. */
export const DATA_FILE_MODE = 0o600;

/**
 * Makes the database's directory and files private before SQLite opens them, and returns what
 * an operator should be told.
 *
 * - The directory is created 0700. An existing one open to others is tightened when it holds
 *   nothing but this database's files (it is chat's own); otherwise (`--data-dir .`, a shared
 *   directory) it is left alone with a warning: the files below are what must stay private.
 * - `chat.db` and `chat.db-lock` are created 0600 before SQLite opens them, because SQLite gives
 *   the `-wal`, `-shm` and `-journal` files it creates the mode of their database file.
 * - Existing files (from an older version, a restored backup, a crash's leftover WAL) open to
 *   others are tightened to 0600, with a warning that says so.
 */
export function securePaths(dbPath: string): string[] {
  const notes: string[] = [];
  const dir = dirname(dbPath);
  const name = basename(dbPath);
  mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  const dirMode = statSync(dir).mode & 0o777;
  if (dirMode & 0o077) {
    const ours = readdirSync(dir).every((entry) => entry.startsWith(name));
    if (ours && tighten(dir, DATA_DIR_MODE)) {
      notes.push(
        `the data directory ${dir} was open to other users (mode ${octal(dirMode)}); it is now ${octal(DATA_DIR_MODE)}`,
      );
    } else {
      notes.push(
        `the data directory ${dir} is open to other users (mode ${octal(dirMode)}) and holds other files, so it was left as it is; ` +
          `chat's files in it are ${octal(DATA_FILE_MODE)}, but others can see their names (chmod 700 it, or use a directory of its own)`,
      );
    }
  }
  for (const file of [dbPath, `${dbPath}-lock`]) closeSync(openSync(file, 'a', DATA_FILE_MODE));
  for (const file of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-lock`, `${dbPath}-lock-journal`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet): SQLite creates it with the database's mode
    }
    if ((mode & 0o077) === 0) continue;
    notes.push(
      tighten(file, DATA_FILE_MODE)
        ? `${file} was readable by other users (mode ${octal(mode)}); it is now ${octal(DATA_FILE_MODE)}`
        : `${file} is readable by other users (mode ${octal(mode)}) and could not be changed; chmod 600 it`,
    );
  }
  return notes;
}

function tighten(path: string, mode: number): boolean {
  try {
    chmodSync(path, mode);
    return true;
  } catch {
    // Not the owner (EPERM): say so instead of failing the start.
    return false;
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
