/** `chat serve --retain N`: the real binary keeps N messages per room and says when a resume lost some. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage, ServerEventPayloads, ServerMessage } from '../../src/protocol/events.js';
import { chatFixtures } from '../helpers/chat-process.js';
import { TestClient } from '../helpers/ws-client.js';

const BIN = fileURLToPath(new URL('../../bin/chat.js', import.meta.url));
const chats = chatFixtures();
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await chats.cleanup();
});

const isHistory = (m: ServerMessage): m is Extract<ServerMessage, { type: 'history' }> =>
  m.type === 'history';

describe('chat serve --retain', () => {
  it('keeps the newest N per room on disk, continues the seq after a restart, and resumes with recovered: false', async () => {
    const dir = chats.tempDir();
    const args = ['--data-dir', dir.path, '--retain', '20', '--msg-rate', '0'];
    const first = await chats.spawn(args);
    const alice = await TestClient.open(first.url);
    clients.push(alice);
    await alice.hello('alice');
    await alice.request('join', { room_id: 'kept' });
    const acks = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        alice.request('message', { room_id: 'kept', message: `m${i + 1}` }),
      ),
    );
    expect(acks.at(-1)!.payload).toMatchObject({ seq: 100 });
    alice.close();
    expect(await first.stop()).toBe(0);

    const db = new Database(join(dir.path, 'chat.db'), { readonly: true });
    try {
      const seqs = db.prepare("SELECT seq FROM messages WHERE room_id = 'kept' ORDER BY seq").pluck().all();
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => 81 + i));
    } finally {
      db.close();
    }

    const second = await chats.spawn(args);
    const bob = await TestClient.open(second.url);
    clients.push(bob);
    await bob.hello('bob');
    const joined = await bob.request('join', { room_id: 'kept', since_seq: 50 });
    expect(joined.payload).toMatchObject({ last_seq: 100 });
    const replay = (await bob.next(isHistory)).payload as ServerEventPayloads['history'];
    expect(replay.recovered).toBe(false);
    expect(replay.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 81 + i));
    const next = await bob.request('message', { room_id: 'kept', message: 'after' });
    expect((next.payload as ChatMessage).seq).toBe(101);
  });

  it.each(['0', '-3', '2.5'])('refuses --retain %s with a clear message', (value) => {
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--memory', '--retain', value], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--retain must be a whole number of messages >= 1');
  });
});
