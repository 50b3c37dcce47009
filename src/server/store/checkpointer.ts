import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What one `PRAGMA wal_checkpoint(PASSIVE)` reported (SQLite's own column names). */
export interface CheckpointResult {
  /** 1 when a lock kept the checkpoint from running at all. */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied into the database file so far (equal to `log`: the WAL can be restarted). */
  checkpointed: number;
}

/** Settings of a {@link Checkpointer}. */
export interface CheckpointerOptions {
  /** The database file (already in WAL mode). */
  path: string;
  /** `synchronous` for the checkpointing connection, the same as the writer's. */
  synchronous: 'NORMAL' | 'FULL';
  /** A checkpoint runs this long after the first commit since the last one. */
  delayMs: number;
  /** Told after each checkpoint the worker completed. */
  onCheckpoint?(result: CheckpointResult): void;
}

/**
 * The worker's code. It is evaluated rather than loaded from a file so that it runs the same from
 * `dist/` and from the TypeScript sources under test; the driver is passed in by absolute path.
 * It only ever runs PASSIVE checkpoints: they copy committed WAL frames into the database file and
 * never wait for, or block, the writer.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
db.pragma('synchronous = ' + workerData.synchronous);
parentPort.on('message', (msg) => {
  if (msg === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, result: row });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message ? err.message : err) });
  }
});
`;

type Reply = { ok: true; result: CheckpointResult } | { ok: false; error: string };

/**
 * Runs the WAL checkpoints of a SQLite file on a worker thread with its own connection.
 *
 * Left to SQLite, the committing connection checkpoints whenever the WAL passes 1,000 pages:
 * under 5,000 msgs/s that is several times a second, each time copying hundreds of pages and
 * fsyncing twice inside a commit on the event loop (3-9 ms; the p99 of a commit went from 0.12 ms
 * to 2.8 ms). Here the writer's own auto-checkpoint is only a backstop, and a checkpoint runs
 * `delayMs` after the first commit that follows the previous one, so an idle server does nothing.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  /** Callers waiting for the reply to the checkpoint in flight. */
  private waiting: ((reply: Reply) => void)[] = [];
  private closed: Promise<void> | undefined;
  private dead = false;
  private lastError: string | undefined;
  /** Checkpoints the worker completed. */
  count = 0;

  constructor(private readonly options: CheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: options.path, synchronous: options.synchronous },
    });
    // An idle worker does not keep the process alive; one with a checkpoint or a close in flight
    // does (ref'd in start and close), so whoever awaits them gets an answer.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.settle({ ok: false, error: err.message }));
    this.exited = new Promise<void>((resolve) =>
      this.worker.once('exit', () => {
        // A worker that died (it could not open the file) fails whoever still waits on it.
        this.dead = true;
        if (this.inFlight) this.settle({ ok: false, error: 'checkpoint worker exited' });
        resolve();
      }),
    );
  }

  /** The last checkpoint error, if any (a backstop checkpoint by the writer covers for it). */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Called after every commit: makes sure a checkpoint follows within `delayMs`. */
  committed(): void {
    if (this.timer || this.inFlight || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.options.delayMs);
    this.timer.unref();
  }

  /** Checkpoints now (after the one in flight, if any) and resolves with what SQLite reported. */
  async checkpoint(): Promise<CheckpointResult> {
    while (this.inFlight) await new Promise<Reply>((r) => this.waiting.push(r));
    if (this.closed) throw new Error('checkpointer is closed');
    const reply = await new Promise<Reply>((r) => {
      this.waiting.push(r);
      this.start();
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply.result;
  }

  /** Lets the checkpoint in flight finish, then closes the worker's connection and ends it. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      while (this.inFlight) await new Promise<Reply>((r) => this.waiting.push(r));
      this.worker.ref();
      this.worker.postMessage('close');
      await this.exited;
    })();
    return this.closed;
  }

  private start(): void {
    if (this.inFlight) return;
    if (this.dead) {
      queueMicrotask(() => this.settle({ ok: false, error: 'checkpoint worker is not running' }));
      return;
    }
    this.inFlight = true;
    this.worker.ref();
    this.worker.postMessage('checkpoint');
  }

  private settle(reply: Reply): void {
    this.inFlight = false;
    if (!this.closed) this.worker.unref();
    if (reply.ok) {
      this.count++;
      this.options.onCheckpoint?.(reply.result);
    } else this.lastError = reply.error;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w(reply);
  }
}
