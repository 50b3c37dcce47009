import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkNick, nickKey } from '../protocol/nick.js';
import { hashPassword } from '../server/auth/password.js';
import { SCHEMA_VERSION } from '../server/store/migrations.js';
import { DB_FILE_NAME } from '../server/store/open.js';
import { SqliteStore } from '../server/store/sqlite.js';

/** A registered nick as `chat account list` shows it. */
export interface AccountRow {
  user_name: string;
  created_ts: number;
}

/** Where `chat account` keeps registered nicks: a data directory's chat.db, or a cluster's Redis. */
export interface AccountStore {
  /** The account of a nick, if registered (compared as nicks collide). */
  get(name: string): AccountRow | undefined | Promise<AccountRow | undefined>;
  /** Every account, by name. */
  list(): AccountRow[] | Promise<AccountRow[]>;
  /** Registers a nick; refused when it is taken or no valid nick. */
  create(name: string, password: string): Promise<void>;
  /** Sets a new password for a registered nick (an operator recovering an account). */
  passwd(name: string, password: string): Promise<void>;
  /** Frees a registered nick (its rooms and messages stay). */
  delete(name: string): void | Promise<void>;
  close(): void;
}

/** Passwords, as `register` takes them. */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

/**
 * Registered nicks in a data directory's chat.db, changed from the shell whether a server runs
 * on it or not. The server holds an exclusive lock on `chat.db-lock` (a second server would
 * assign the same seqs), but not on chat.db itself: chat.db is in WAL mode, so this second
 * connection writes one small transaction (waiting up to 5 s for the server's writer) and the
 * server's next password check reads it, since the hub reads users from the store each time.
 * A database this build must first migrate is migrated through the store, which takes the lock,
 * so that never happens under a running server (which would have migrated it already).
 */
export class Accounts implements AccountStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens `<dataDir>/chat.db`; `create` makes it (with its schema) when it does not exist. */
  static async open(dataDir: string, create: boolean): Promise<Accounts> {
    const path = join(dataDir, DB_FILE_NAME);
    if (!existsSync(path)) {
      if (!create) throw new Error(`no database at ${path} (wrong --data-dir?)`);
      await new SqliteStore({ path }).close();
    }
    let db = new Database(path, { timeout: 5000, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new Error(
        `${path} was written by a newer chat (schema ${version}; this one knows ${SCHEMA_VERSION})`,
      );
    }
    if (version < SCHEMA_VERSION) {
      db.close();
      await new SqliteStore({ path }).close();
      db = new Database(path, { timeout: 5000, fileMustExist: true });
    }
    return new Accounts(db);
  }

  /** The account of a nick, if registered (compared as nicks collide). */
  get(name: string): AccountRow | undefined {
    return this.db
      .prepare<[string], AccountRow>('SELECT user_name, created_ts FROM users WHERE nick_key = ?')
      .get(nickKey(name));
  }

  /** Every account, by name. */
  list(): AccountRow[] {
    return this.db
      .prepare<[], AccountRow>('SELECT user_name, created_ts FROM users ORDER BY user_name')
      .all();
  }

  /** Registers a nick; refused when it is taken or no valid nick. */
  async create(name: string, password: string): Promise<void> {
    const nick = validNick(name);
    checkPassword(password);
    const hash = await hashPassword(password);
    const done = this.db
      .prepare(
        'INSERT INTO users (nick_key, user_name, password_hash, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(nickKey(nick), nick, hash, Date.now());
    if (done.changes === 0)
      throw new Error(`${nick} is registered already (chat account passwd changes its password)`);
  }

  /** Sets a new password for a registered nick (an operator recovering an account). */
  async passwd(name: string, password: string): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password);
    const done = this.db
      .prepare('UPDATE users SET password_hash = ? WHERE nick_key = ?')
      .run(hash, nickKey(name));
    if (done.changes === 0) throw new Error(`${name} is not registered`);
  }

  /** Frees a registered nick (its rooms and messages stay). */
  delete(name: string): void {
    const done = this.db.prepare('DELETE FROM users WHERE nick_key = ?').run(nickKey(name));
    if (done.changes === 0) throw new Error(`${name} is not registered`);
  }

  close(): void {
    this.db.close();
  }
}

/** The nick as registered, or an Error that says why it cannot be one. */
export function validNick(name: string): string {
  const checked = checkNick(name);
  if (!checked.ok) throw new Error(`${JSON.stringify(name)} is not a valid nick: ${checked.reason}`);
  return checked.nick;
}

/** Throws unless the password has a length `register` takes. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)
    throw new Error(`passwords are ${MIN_PASSWORD}-${MAX_PASSWORD} characters`);
}
