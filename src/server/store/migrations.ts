import type Database from 'better-sqlite3';
import { foldRoomIds } from './room-case-migration.js';

/** One schema step; `version` is the `PRAGMA user_version` the database has once it ran. */
export interface Migration {
  version: number;
  /** Why the step exists, for the reader of `docs/persistence.md` and of a failed upgrade. */
  description: string;
  sql: string;
  /** Work SQL alone cannot say, run after `sql` in the same transaction; `note` reports what it did. */
  run?: (db: Database.Database, note: (text: string) => void) => void;
}

/**
 * Every schema step, oldest first. Never edit a released step: add a new one, because a database
 * already at that version will not run it again.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'rooms, messages (unique per room seq and per sender idempotency key) and users',
    sql: `
      CREATE TABLE rooms (
        room_id    TEXT PRIMARY KEY,
        room_name  TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        -- Kept here, not only as MAX(seq), so seq continues even after retention deleted every message.
        last_seq   INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE messages (
        room_id       TEXT NOT NULL REFERENCES rooms (room_id),
        seq           INTEGER NOT NULL,
        id            TEXT NOT NULL,
        ts            INTEGER NOT NULL,
        user_name     TEXT NOT NULL,
        sender_key    TEXT NOT NULL,
        message       TEXT NOT NULL,
        client_msg_id TEXT,
        PRIMARY KEY (room_id, seq)
      ) STRICT;

      -- Partial: messages without an idempotency key neither collide nor cost index space.
      CREATE UNIQUE INDEX messages_client_msg_id
        ON messages (room_id, sender_key, client_msg_id)
        WHERE client_msg_id IS NOT NULL;

      CREATE TABLE users (
        nick_key      TEXT PRIMARY KEY,
        user_name     TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_ts    INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'messages.kind: an action (/me) or a topic change; NULL for plain speech',
    sql: `
      ALTER TABLE messages ADD COLUMN kind TEXT CHECK (kind IN ('action', 'topic'));
    `,
  },
  {
    version: 3,
    description:
      'room ids compare without case: of rooms that differ only in case the oldest keeps its id, the others get a -2, -3... suffix',
    sql: '',
    run: foldRoomIds,
  },
  {
    version: 4,
    description:
      'room settings: topic, owner and modes on rooms; room_roles (operators, voiced) and room_bans',
    sql: `
      ALTER TABLE rooms ADD COLUMN topic TEXT;
      ALTER TABLE rooms ADD COLUMN topic_by TEXT;
      ALTER TABLE rooms ADD COLUMN topic_ts INTEGER;
      -- The owner is compared by nick key; owner_name is how it is shown.
      ALTER TABLE rooms ADD COLUMN owner_key TEXT;
      ALTER TABLE rooms ADD COLUMN owner_name TEXT;
      -- Mode letters, sorted: t (topic lock), i (invite-only), m (moderated); '' for none.
      ALTER TABLE rooms ADD COLUMN modes TEXT NOT NULL DEFAULT '';

      CREATE TABLE room_roles (
        room_id   TEXT NOT NULL REFERENCES rooms (room_id),
        nick_key  TEXT NOT NULL,
        user_name TEXT NOT NULL,
        role      TEXT NOT NULL CHECK (role IN ('operator', 'voice')),
        PRIMARY KEY (room_id, nick_key)
      ) STRICT;

      CREATE TABLE room_bans (
        room_id TEXT NOT NULL REFERENCES rooms (room_id),
        mask    TEXT NOT NULL,
        set_by  TEXT NOT NULL,
        set_ts  INTEGER NOT NULL,
        PRIMARY KEY (room_id, mask)
      ) STRICT;
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the database up to {@link SCHEMA_VERSION}. Each step runs in its own transaction
 * together with its `user_version` bump, so a crash mid-upgrade leaves the previous version intact.
 * Refuses a database written by a newer build rather than guess at a schema it does not know.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  note: (text: string) => void = () => {},
): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this build supports (${latest})`);
  }
  const step = db.transaction((m: Migration) => {
    db.exec(m.sql);
    m.run?.(db, note);
    // PRAGMA takes no bound parameters; the version is an integer from our own table.
    db.pragma(`user_version = ${Math.trunc(m.version)}`);
  });
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version > current) step(m);
  }
  return latest;
}
