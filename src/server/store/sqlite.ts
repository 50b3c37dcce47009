import Database from 'better-sqlite3';
import type { ChatMessage, MessageKind } from '../../protocol/events.js';
import { Checkpointer, type CheckpointResult } from './checkpointer.js';
import { migrate } from './migrations.js';
import { securePaths } from './permissions.js';
import { SqliteRoomSettings } from './sqlite-room-settings.js';
import type {
  AppendRecord,
  CommitTiming,
  RoomRecord,
  RoomSettings,
  Store,
  UserRecord,
} from './store-types.js';

/** Options for {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file, created with its directory on first start; `:memory:` for a throwaway one. */
  path: string;
  /**
   * `normal` (default): in WAL mode a commit survives a process crash but a power loss may undo the
   * last transactions. `full`: every commit is fsynced before its appends resolve.
   */
  synchronous?: 'normal' | 'full';
  /**
   * true (default): every `append` of one event-loop turn shares one transaction.
   * false: one transaction per `append`, only for comparison in bench/sqlite-append.ts.
   */
  batch?: boolean;
  /** Messages kept per room; older ones are deleted as new ones arrive. Default: keep everything. */
  retainPerRoom?: number;
  /**
   * WAL checkpoints run on a worker thread this many ms after the first commit since the last
   * one (default 100), instead of inside a commit on the event loop. 0: leave them to SQLite.
   */
  checkpointDelayMs?: number;
  /**
   * Runs `PRAGMA quick_check` when opening and refuses a damaged file (with a message that says
   * how to go on). It reads every page, so `chat serve --skip-db-check` turns it off for huge
   * files. Default false (the server's openStore turns it on).
   */
  quickCheck?: boolean;
  /** Told what an operator should know (permissions that were tightened or look wrong). */
  onWarning?(message: string): void;
}

/** The writer's own auto-checkpoint (pages) when a worker checkpoints: only a backstop. */
const BACKSTOP_AUTOCHECKPOINT = 10_000;

/** WAL frames past which the writer finishes a worker's checkpoint itself (see catchUp). */
const CATCH_UP_FRAMES = 4_000;

/** Counters for tests and the benchmark. */
export interface SqliteStoreStats {
  /** Transactions committed by `append` (a batch that fell back to one-by-one counts each). */
  transactions: number;
  /** Records committed. */
  records: number;
}

interface PendingAppend {
  records: AppendRecord[];
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/** null when an append committed, else why it was rejected. */
type Outcome = { error: unknown } | null;

interface MessageRow {
  room_id: string;
  seq: number;
  id: string;
  ts: number;
  user_name: string;
  message: string;
  client_msg_id: string | null;
  kind: MessageKind | null;
}

const MESSAGE_COLUMNS = 'room_id, seq, id, ts, user_name, message, client_msg_id, kind';

/**
 * A {@link Store} on an embedded SQLite file (better-sqlite3, WAL).
 *
 * Appends made during one event-loop turn are committed in one transaction on the next
 * `setImmediate` (or, once {@link SqliteStore.commitWhen} handed the timing over, when the
 * caller asks: every append since the previous commit), without savepoints. If any record is bad (duplicate seq or idempotency key,
 * unknown room) that transaction rolls back and the batch is written again with a savepoint per
 * `append`, so the bad record rejects only its own `append` while the rest of the batch commits.
 * Promises resolve after the commit, in append order. Records must not be mutated until then.
 */
export class SqliteStore implements Store, CommitTiming {
  private readonly db: Database.Database;
  /** Held open for the store's lifetime: the exclusive lock on `<path>-lock` (see {@link lockDataFile}). */
  private readonly lock: Database.Database | undefined;
  private readonly batch: boolean;
  private readonly retain: number | undefined;
  private readonly stmt: Statements;
  private readonly writeOne: (records: AppendRecord[]) => void;
  private readonly deleteRoomTx: (roomId: string) => void;
  private readonly settings: SqliteRoomSettings;
  private readonly createRoomTx: (room: Omit<RoomRecord, 'last_seq'>) => void;
  private readonly writeBatch: (batch: PendingAppend[]) => Outcome[];
  private readonly writeAll: (batch: PendingAppend[]) => void;
  private readonly checkpointer: Checkpointer | undefined;
  private pending: PendingAppend[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  /** Set by {@link commitWhen}: who is told that appends wait for a commit. */
  private commitRequest: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: SqliteStoreStats = { transactions: 0, records: 0 };

  constructor(options: SqliteStoreOptions) {
    this.batch = options.batch ?? true;
    this.retain = options.retainPerRoom;
    if (options.path !== ':memory:') {
      for (const note of securePaths(options.path)) options.onWarning?.(note);
      this.lock = lockDataFile(options.path);
    }
    try {
      this.db = new Database(options.path, { timeout: 5000 });
    } catch (err) {
      this.lock?.close();
      throw err;
    }
    const synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL';
    const checkpointDelayMs = options.checkpointDelayMs ?? 100;
    try {
      // First: on a file that is not a database at all, even the pragmas below fail, unclearly.
      if (options.quickCheck) quickCheck(this.db, options.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma('foreign_keys = ON');
      migrate(this.db, undefined, (text) => options.onWarning?.(text));
      if (options.path !== ':memory:' && checkpointDelayMs > 0) {
        this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT}`);
        this.checkpointer = new Checkpointer({
          path: options.path,
          synchronous,
          delayMs: checkpointDelayMs,
          onCheckpoint: (r) => this.catchUp(r),
        });
      }
    } catch (err) {
      this.db.close();
      this.lock?.close();
      throw err;
    }
    this.stmt = prepareStatements(this.db);
    // Called at top level it is a transaction; called inside writeBatch it becomes a savepoint.
    this.writeOne = this.db.transaction((records: AppendRecord[]) => this.write(records));
    this.settings = new SqliteRoomSettings(this.db);
    this.createRoomTx = this.db.transaction((room: Omit<RoomRecord, 'last_seq'>) => {
      const { settings, ...record } = room;
      const made = this.stmt.createRoom.run(record).changes > 0;
      if (made && settings) this.settings.save(room.room_id, settings);
    });
    this.deleteRoomTx = this.db.transaction((roomId: string) => {
      this.stmt.deleteMessages.run(roomId);
      this.settings.forget(roomId);
      this.stmt.deleteRoom.run(roomId);
    });
    // The common case, no bad record: the whole batch without a savepoint per append (a SAVEPOINT
    // and a RELEASE each). Any error rolls all of it back and the batch is redone with savepoints.
    this.writeAll = this.db.transaction((batch: PendingAppend[]) => {
      for (const p of batch) this.write(p.records);
    });
    this.writeBatch = this.db.transaction((batch: PendingAppend[]) =>
      batch.map((p): Outcome => {
        try {
          this.writeOne(p.records);
          return null;
        } catch (error) {
          // Some errors (I/O, full disk) make SQLite roll back the whole transaction: abandon it.
          if (!this.db.inTransaction) throw error;
          return { error };
        }
      }),
    );
  }

  /** Transactions and records committed so far. */
  get stats(): SqliteStoreStats {
    return { ...this.counters };
  }

  /** The underlying connection, for `PRAGMA` checks in tests; do not write through it. */
  get database(): Database.Database {
    return this.db;
  }

  async listRooms(): Promise<RoomRecord[]> {
    const settings = this.settings.loadAll();
    return this.stmt.listRooms.all().map((room) => {
      const s = settings.get(room.room_id);
      return s ? { ...room, settings: s } : room;
    });
  }

  async createRoom(room: Omit<RoomRecord, 'last_seq'>): Promise<void> {
    this.createRoomTx(room);
  }

  async saveRoomSettings(roomId: string, settings: RoomSettings): Promise<void> {
    if (this.closing) throw new Error('store is closed');
    this.settings.save(roomId, settings);
  }

  async deleteRoom(roomId: string): Promise<void> {
    if (this.closing) throw new Error('store is closed');
    // Appends still pending in this turn's batch belong to other rooms (the room deleting itself
    // has none in flight); the delete commits on its own, both statements or neither.
    this.deleteRoomTx(roomId);
  }

  append(records: AppendRecord[]): Promise<void> {
    if (this.closing) return Promise.reject(new Error('store is closed'));
    if (!this.batch) {
      try {
        this.commitAlone(records);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<void>((resolve, reject) => {
      if (this.pending.push({ records, resolve, reject }) > 1) return;
      if (this.commitRequest) this.commitRequest();
      else this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Hands the timing of commits to the caller: from now on, when an append arrives with none
   * pending, `request` is called instead of a commit being scheduled for the end of the turn,
   * and the caller must call {@link commitPending} soon after (the server's WebSocket write
   * coalescer does, as the first step of its next flush: see docs/performance.md). undefined
   * gives the timing back to the store, which commits anything pending at the end of the turn.
   */
  commitWhen(request: (() => void) | undefined): void {
    this.commitRequest = request;
    if (!request && this.pending.length > 0) this.flushTimer ??= setImmediate(() => this.flush());
  }

  /**
   * Commits every pending append now, in one transaction; false when none was pending. Their
   * promises settle on the microtasks that follow the caller's synchronous code, in append order.
   */
  commitPending(): boolean {
    if (this.pending.length === 0) return false;
    this.flush();
    return true;
  }

  async since(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    // SQLite reads a negative LIMIT as "no limit".
    if (limit <= 0) return [];
    return this.stmt.since.all(roomId, afterSeq, limit).map(toMessage);
  }

  async before(roomId: string, beforeSeq: number | undefined, limit: number): Promise<ChatMessage[]> {
    if (limit <= 0) return [];
    const rows = this.stmt.before.all(roomId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit);
    return rows.reverse().map(toMessage);
  }

  async firstSeq(roomId: string): Promise<number | undefined> {
    return this.stmt.firstSeq.get(roomId)?.seq ?? undefined;
  }

  async findByClientMsgId(
    roomId: string,
    senderKey: string,
    clientMsgId: string,
  ): Promise<ChatMessage | undefined> {
    const row = this.stmt.byClientMsgId.get(roomId, senderKey, clientMsgId);
    return row ? toMessage(row) : undefined;
  }

  async getUser(nickKey: string): Promise<UserRecord | undefined> {
    return this.stmt.getUser.get(nickKey);
  }

  async putUser(user: UserRecord): Promise<void> {
    this.stmt.putUser.run(user);
  }

  /**
   * Runs a WAL checkpoint on the worker now and resolves with what SQLite reported; undefined
   * when checkpoints are left to SQLite (`checkpointDelayMs: 0`, `:memory:`). For tests.
   */
  checkpoint(): Promise<CheckpointResult | undefined> {
    return this.checkpointer ? this.checkpointer.checkpoint() : Promise.resolve(undefined);
  }

  /** Checkpoints the worker completed so far (0 without one). */
  get checkpoints(): number {
    return this.checkpointer?.count ?? 0;
  }

  /** Commits the pending appends, then closes the database. Later calls return the same promise. */
  close(): Promise<void> {
    if (!this.closing) {
      try {
        this.flush();
      } catch (err) {
        this.closing = Promise.reject(err);
        return this.closing;
      }
      this.closing = (async () => {
        // The worker's connection first: the last connection to close checkpoints and removes
        // the WAL, and that should be the writer, after its final commit.
        await this.checkpointer?.close();
        this.db.close();
        this.lock?.close();
      })();
    }
    return this.closing;
  }

  /** Commits everything appended since the last flush and settles the promises in order. */
  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch(batch);
      this.counters.transactions += 1;
      this.counters.records += countCommitted(batch, outcomes);
    } catch {
      // The batch as a whole failed (commit error or automatic rollback): give every append its
      // own transaction so whatever can be stored is, and each caller learns its own outcome.
      outcomes = batch.map((p): Outcome => {
        try {
          this.commitAlone(p.records);
          return null;
        } catch (error) {
          return { error };
        }
      });
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome) p.reject(outcome.error);
      else p.resolve();
    });
  }

  /**
   * The writer restarts the WAL from its start only when every frame has been checkpointed, and
   * under steady load the writer always appended more while the worker copied. So once the WAL
   * is long ({@link CATCH_UP_FRAMES}), the writer copies that small remainder itself (a few dozen
   * frames, but two fsyncs: 1-3 ms on the event loop), letting its next commit restart the WAL.
   * Doing it after every worker checkpoint cost that stall 8-9 times a second at 5,000 msgs/s;
   * never doing it let the WAL grow until the backstop copied 10,000 pages on the event loop.
   */
  private catchUp(result: CheckpointResult): void {
    // result.log is the WAL's length when the worker began; the writer has appended more since.
    if (this.closing || result.busy || result.log < CATCH_UP_FRAMES) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Only an optimisation: the next round, or the backstop, checkpoints anyway.
    }
  }

  /** One transaction for the batch: without savepoints if nothing fails, else with one per append. */
  private commitBatch(batch: PendingAppend[]): Outcome[] {
    try {
      this.writeAll(batch);
      this.checkpointer?.committed();
      return batch.map(() => null);
    } catch {
      // Rolled back as a whole; the savepoints now tell which append failed.
    }
    const outcomes = this.writeBatch(batch);
    this.checkpointer?.committed();
    return outcomes;
  }

  private commitAlone(records: AppendRecord[]): void {
    this.writeOne(records);
    this.checkpointer?.committed();
    this.counters.transactions += 1;
    this.counters.records += records.length;
  }

  /** Writes one `append`'s records; throws (rolling back its savepoint) on any bad record. */
  private write(records: AppendRecord[]): void {
    const maxSeq = new Map<string, number>();
    for (const r of records) maxSeq.set(r.room_id, Math.max(maxSeq.get(r.room_id) ?? 0, r.seq));
    // The room update first, so an unknown room fails with a clear message, not a foreign key error.
    for (const [roomId, seq] of maxSeq) {
      if (this.stmt.bumpLastSeq.run(seq, roomId).changes === 0) throw new Error(`no such room ${roomId}`);
    }
    for (const r of records) {
      this.stmt.insertMessage.run({
        room_id: r.room_id,
        seq: r.seq,
        id: r.id,
        ts: r.ts,
        user_name: r.user_name,
        sender_key: r.sender_key,
        message: r.message,
        client_msg_id: r.client_msg_id ?? null,
        kind: r.kind ?? null,
      });
    }
    if (this.retain !== undefined) {
      for (const [roomId, seq] of maxSeq) this.stmt.prune.run(roomId, seq - this.retain);
    }
  }
}

/**
 * Takes an exclusive SQLite lock on `<path>-lock` and keeps it until the returned connection is
 * closed. A second server (or store) on the same file would assign the same seqs and fail every
 * append with a constraint error, so it is refused at once instead. The lock is the kernel's: a
 * crashed process leaves nothing to clean up. A separate file keeps `chat.db` itself readable by
 * `sqlite3` and backup tools while the server runs.
 */
/**
 * Refuses a database whose pages are damaged, before anything is read from or written to it:
 * a damaged file otherwise starts without a word and fails later, one request at a time.
 */
function quickCheck(db: Database.Database, path: string): void {
  const advice =
    'restore it from a backup (or repair it with the sqlite3 tool: .recover), or start with --skip-db-check to run on it as it is';
  let problems: string[];
  try {
    problems = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check);
  } catch (err) {
    throw new Error(
      `${path} is damaged or not a database: PRAGMA quick_check failed (${(err as Error).message}); ${advice}`,
    );
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw new Error(`${path} is damaged: PRAGMA quick_check found ${problems.join('; ')}; ${advice}`);
}

function lockDataFile(path: string): Database.Database {
  const lock = new Database(`${path}-lock`, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`${path} is in use by another chat server; stop it or choose another --data-dir`);
    }
    throw err;
  }
}

type Statements = ReturnType<typeof prepareStatements>;

const ROOM_COLUMNS = 'room_id, room_name, created_by, created_ts, last_seq';
const USER_COLUMNS = 'nick_key, user_name, password_hash, created_ts';

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    listRooms: db.prepare<[], RoomRecord>(`SELECT ${ROOM_COLUMNS} FROM rooms ORDER BY room_id`),
    createRoom: db.prepare<Omit<RoomRecord, 'last_seq' | 'settings'>>(
      `INSERT INTO rooms (room_id, room_name, created_by, created_ts)
       VALUES (@room_id, @room_name, @created_by, @created_ts) ON CONFLICT (room_id) DO NOTHING`,
    ),
    bumpLastSeq: db.prepare<[number, string]>(
      'UPDATE rooms SET last_seq = MAX(last_seq, ?) WHERE room_id = ?',
    ),
    insertMessage: db.prepare<MessageRow & { sender_key: string }>(
      `INSERT INTO messages (room_id, seq, id, ts, user_name, sender_key, message, client_msg_id, kind)
       VALUES (@room_id, @seq, @id, @ts, @user_name, @sender_key, @message, @client_msg_id, @kind)`,
    ),
    prune: db.prepare<[string, number]>('DELETE FROM messages WHERE room_id = ? AND seq <= ?'),
    deleteMessages: db.prepare<[string]>('DELETE FROM messages WHERE room_id = ?'),
    deleteRoom: db.prepare<[string]>('DELETE FROM rooms WHERE room_id = ?'),
    since: db.prepare<[string, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    before: db.prepare<[string, number, number], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    firstSeq: db.prepare<[string], { seq: number | null }>(
      'SELECT MIN(seq) AS seq FROM messages WHERE room_id = ?',
    ),
    byClientMsgId: db.prepare<[string, string, string], MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
       WHERE room_id = ? AND sender_key = ? AND client_msg_id = ? AND client_msg_id IS NOT NULL`,
    ),
    getUser: db.prepare<[string], UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE nick_key = ?`),
    putUser: db.prepare<UserRecord>(
      `INSERT INTO users (nick_key, user_name, password_hash, created_ts)
       VALUES (@nick_key, @user_name, @password_hash, @created_ts)
       ON CONFLICT (nick_key) DO UPDATE SET user_name = excluded.user_name,
         password_hash = excluded.password_hash, created_ts = excluded.created_ts`,
    ),
  };
}

function toMessage(row: MessageRow): ChatMessage {
  const { client_msg_id, kind, ...fields } = row;
  const message: ChatMessage = fields;
  if (client_msg_id !== null) message.client_msg_id = client_msg_id;
  if (kind !== null) message.kind = kind;
  return message;
}

function countCommitted(batch: PendingAppend[], outcomes: Outcome[]): number {
  return batch.reduce((n, p, i) => (outcomes[i] ? n : n + p.records.length), 0);
}
