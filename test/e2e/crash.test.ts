/**
 * Issue 4, crash: a writer pipelines 5,000 messages with client_msg_id to the real binary
 * (`--sync normal`, the default), the server is SIGKILLed mid-stream, started again on the same
 * file, and the writer retries everything it has no acknowledgement for. Every acknowledged
 * message must be there exactly once and unchanged, seq gap-free, the file sound.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../src/protocol/events.js';
import { chatFixtures, type ChatProcess } from '../helpers/chat-process.js';

const TOTAL = 5_000;
/** Requests in flight at once: pipelined, yet bounded so the kill lands mid-stream. */
const WINDOW = 200;
const ROOM = 'crash';
const RUNS = 5;

const text = (i: number): string => `message ${i} ${'·'.repeat(i % 40)}`;
const key = (i: number): string => `w-${i}`;

/**
 * A raw WebSocket writer: sends the messages of `queue` with at most WINDOW unacknowledged,
 * records every acknowledgement (the `message` event carrying its ref) and tolerates the
 * connection dying under it.
 */
class Writer {
  readonly acks = new Map<number, ChatMessage>();
  /** Acks that arrived after halt(): treated as lost in transit, so their messages are retried. */
  readonly lateAcks = new Map<number, ChatMessage>();
  readonly errors: ServerMessage[] = [];
  /** Live `message` events without a ref (broadcasts of other people's messages). */
  readonly broadcasts: ChatMessage[] = [];
  private queue: number[] = [];
  private inflight = 0;
  private halted = false;
  private readonly waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] =
    [];
  private onAck: (count: number) => void = () => {};
  private drained: () => void = () => {};
  readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('error', () => {}); // ECONNRESET when the server is killed: the close event follows.
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as ServerMessage;
      if (m.type === 'error') this.errors.push(m);
      if (m.type === 'message') {
        if (typeof m.ref === 'string' && m.ref.startsWith('m')) this.ack(Number(m.ref.slice(1)), m.payload);
        else if (m.ref === undefined) this.broadcasts.push(m.payload);
      }
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i]!.pred(m)) this.waiters.splice(i, 1)[0]!.resolve(m);
      }
    });
  }

  static async open(url: string): Promise<Writer> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Writer(ws);
  }

  /** Resolves with the first future event matching `pred`. */
  next(pred: (m: ServerMessage) => boolean): Promise<ServerMessage> {
    return new Promise<ServerMessage>((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Sends a request and resolves with the first event matching `pred`. */
  request(type: string, payload: unknown, pred: (m: ServerMessage) => boolean): Promise<ServerMessage> {
    const reply = this.next(pred);
    this.ws.send(JSON.stringify({ type, payload }));
    return reply;
  }

  /** Pipelines `indexes`; resolves when all are acknowledged. `onAck` sees the running total. */
  send(indexes: number[], onAck: (count: number) => void = () => {}): Promise<void> {
    this.queue = [...indexes];
    this.onAck = onAck;
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    this.fill();
    if (indexes.length === 0) this.drained();
    return done;
  }

  /** Sends nothing more (the server is about to die). */
  halt(): void {
    this.halted = true;
  }

  close(): void {
    this.ws.close();
  }

  private fill(): void {
    while (
      !this.halted &&
      this.inflight < WINDOW &&
      this.queue.length > 0 &&
      this.ws.readyState === WebSocket.OPEN
    ) {
      const i = this.queue.shift()!;
      this.inflight++;
      this.ws.send(
        JSON.stringify({
          type: 'message',
          payload: { room_id: ROOM, message: text(i), client_msg_id: key(i) },
          ref: `m${i}`,
        }),
      );
    }
  }

  private ack(i: number, message: ChatMessage): void {
    if (this.acks.has(i) || this.lateAcks.has(i))
      throw new Error(`message ${i} acknowledged twice on one connection`);
    if (this.halted) {
      this.lateAcks.set(i, message);
      return;
    }
    this.acks.set(i, message);
    this.inflight--;
    this.onAck(this.acks.size);
    this.fill();
    if (this.inflight === 0 && this.queue.length === 0) this.drained();
  }
}

const chats = chatFixtures();
afterEach(() => chats.cleanup());

function start(dataDir: string): Promise<ChatProcess> {
  // No rate limit: the writers here pipeline far past a person's burst.
  return chats.spawn(['--data-dir', dataDir, '--msg-rate', '0']);
}

async function enter(writer: Writer, nick: string): Promise<number> {
  const welcome = await writer.request(
    'hello',
    { user_name: nick },
    (m) => m.type === 'welcome' || m.type === 'error',
  );
  expect(welcome.type).toBe('welcome');
  const history = writer.next((m) => m.type === 'history');
  const reply = await writer.request(
    'join',
    { room_id: ROOM },
    (m) => m.type === 'joined' || m.type === 'error',
  );
  if (reply.type !== 'joined') throw new Error(JSON.stringify(reply));
  await history;
  return reply.payload.last_seq;
}

interface Row extends ChatMessage {
  client_msg_id: string;
}

/** Five crashes, then one graceful stop under the same load (it must not lose an ack either). */
const SCENARIOS: ('SIGKILL' | 'SIGTERM')[] = [
  ...Array.from({ length: RUNS }, () => 'SIGKILL' as const),
  'SIGTERM',
];

describe('killed mid-stream, restarted, retrying what has no ack', () => {
  const summary: string[] = [];

  SCENARIOS.forEach((signal, index) => {
    const run = index + 1;
    const title =
      signal === 'SIGKILL'
        ? `run ${run}: every acknowledged message is kept once and unchanged, all ${TOTAL} land once, seq gap-free`
        : `run ${run}: a SIGTERM under the same load also stores every acknowledged message, and exits 0`;
    it(
      title,
      async () => {
        const dir = chats.tempDir();
        const killAt = 1_000 + Math.floor(Math.random() * 2_000);

        // Before the crash: pipeline everything, signal the server once killAt acks are in.
        const first = await start(dir.path);
        const writer = await Writer.open(first.url);
        expect(await enter(writer, 'writer')).toBe(0);
        let killed: Promise<number | string> | undefined;
        const all = Array.from({ length: TOTAL }, (_, i) => i);
        void writer.send(all, (count) => {
          if (count < killAt || killed) return;
          if (signal === 'SIGKILL') {
            writer.halt();
            killed = first.kill();
          } else {
            // Keep sending: the shutdown has to cope with frames arriving while it drains.
            killed = first.stop();
          }
        });
        await writer.closed;
        const before = new Map(writer.acks);
        if (signal === 'SIGKILL') {
          expect(await killed).toBe('SIGKILL');
          expect(writer.errors).toEqual([]);
          expect(before.size).toBe(killAt);
        } else {
          expect(await killed).toBe(0);
          // Requests that came in after the shutdown began are refused, never silently dropped.
          expect(new Set(writer.errors.map((e) => (e.payload as { code: string }).code))).toEqual(
            new Set(writer.errors.length > 0 ? ['shutting_down'] : []),
          );
          expect(before.size).toBeGreaterThanOrEqual(killAt);
        }
        expect(before.size).toBeLessThan(TOTAL);
        // Acks arrive in seq order and seq is 1.. with no gap on the writer's side too.
        expect([...before.values()].map((m) => m.seq)).toEqual(
          Array.from({ length: before.size }, (_, i) => i + 1),
        );

        // After the restart: a watcher sees the live stream; the writer retries what it lacks.
        const second = await start(dir.path);
        const watcher = await Writer.open(second.url);
        const lastSeq = await enter(watcher, 'watcher');
        expect(lastSeq).toBeGreaterThanOrEqual(before.size);
        const retry = await Writer.open(second.url);
        await enter(retry, 'writer');
        const missing = all.filter((i) => !before.has(i));
        await retry.send(missing);
        expect(retry.errors).toEqual([]);
        // Retries of messages committed before the kill get their original seq back.
        const reAcked = missing.filter((i) => retry.acks.get(i)!.seq <= lastSeq);
        expect(reAcked.length).toBe(lastSeq - before.size);
        // Acks that were sent but dropped: the retry is answered with the very same message.
        for (const [i, late] of writer.lateAcks) expect(retry.acks.get(i)).toEqual(late);
        // The watcher got each new message once and none of the re-acknowledged ones.
        // A ping's pong follows everything queued before it, so the predicate runs at least once.
        await watcher.request(
          'ping',
          null,
          (m) => (lastSeq === TOTAL && m.type === 'pong') || watcher.broadcasts.some((b) => b.seq === TOTAL),
        );
        expect(watcher.broadcasts.map((m) => m.seq)).toEqual(
          Array.from({ length: TOTAL - lastSeq }, (_, i) => lastSeq + i + 1),
        );
        retry.close();
        watcher.close();
        expect(await second.stop()).toBe(0);

        const db = new Database(join(dir.path, 'chat.db'), { readonly: true });
        try {
          expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
          const rows = db
            .prepare(
              'SELECT room_id, seq, id, ts, user_name, message, client_msg_id FROM messages WHERE room_id = ? ORDER BY seq',
            )
            .all(ROOM) as Row[];
          expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
          expect(db.prepare('SELECT last_seq FROM rooms WHERE room_id = ?').pluck().get(ROOM)).toBe(TOTAL);
          const byKey = new Map(rows.map((r) => [r.client_msg_id, r]));
          expect(byKey.size).toBe(TOTAL);
          for (let i = 0; i < TOTAL; i++) {
            const row = byKey.get(key(i));
            expect(row, `message ${i}`).toBeDefined();
            expect(row!.message).toBe(text(i));
            // Whichever side acknowledged it, the acknowledgement is the stored message.
            expect(row).toEqual(before.get(i) ?? retry.acks.get(i));
          }
        } finally {
          db.close();
        }
        summary.push(
          `run ${run}: ${signal} after ${before.size} acks (${writer.lateAcks.size} more dropped as lost), ${lastSeq} stored at restart, ${reAcked.length} retries answered with their original seq`,
        );
      },
      60_000,
    );
  });

  afterAll(() => console.info(summary.join('\n')));
});
