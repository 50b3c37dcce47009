/**
 * A store that fails a commit: the sender gets internal_error without the cause (it may name
 * files or tables), the operator gets the cause in the log, nothing is acknowledged, and the room
 * goes on with the same seq once the store recovers.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import type { AppendRecord } from '../../src/server/store/store.js';
import { TestClient } from '../helpers/ws-client.js';

const CAUSE = 'SQLITE_FULL: database or disk is full (/srv/secret/chat.db)';

class FlakyStore extends MemoryStore {
  failing = false;
  override async append(records: AppendRecord[]): Promise<void> {
    if (this.failing) throw new Error(CAUSE);
    return super.append(records);
  }
}

let server: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

describe('a failed commit', () => {
  it('answers internal_error without the cause, logs the cause, and the seq carries on afterwards', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const store = new FlakyStore();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      store,
      logger: pino({ level: 'error' }, sink),
      rateLimit: false,
    });
    const alice = await TestClient.open(server.url);
    clients.push(alice);
    await alice.hello('alice');
    await alice.request('join', { room_id: 'r' });
    expect((await alice.request('message', { room_id: 'r', message: 'one' })).payload).toMatchObject({
      seq: 1,
    });

    store.failing = true;
    const failed = await alice.request('message', { room_id: 'r', message: 'two' });
    expect(failed.type).toBe('error');
    expect(failed.payload).toMatchObject({ code: 'internal_error' });
    expect(JSON.stringify(failed)).not.toContain('SQLITE_FULL');
    expect(lines.join('')).toContain(CAUSE);
    expect(lines.join('')).toContain('room r');

    store.failing = false;
    const after = await alice.request('message', { room_id: 'r', message: 'three' });
    expect(after.payload).toMatchObject({ seq: 2, message: 'three' });
    const messages = alice.received.filter((m: ServerMessage) => m.type === 'message');
    expect(messages.map((m) => (m.payload as { message: string }).message)).toEqual(['one', 'three']);
  });
});
