// A room's epoch (joined.epoch): a since_seq counted in an earlier history of a room (the room
// expired and was made again, a new data directory) is recognised instead of replayed from.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { MemoryStore } from '../../src/server/store/memory.js';
import { startTestServer, useTestServers } from '../helpers/test-server.js';
import { until } from '../helpers/wait.js';
import { TestClient } from '../helpers/ws-client.js';

const { serve, track } = useTestServers();

async function connect(server: RunningServer, nick: string): Promise<TestClient> {
  const c = track(await TestClient.open(server.url));
  await c.hello(nick);
  return c;
}

/** Joins with `payload` and collects `joined` and the `history` pages up to the last one. */
async function enterRoom(c: TestClient, payload: Record<string, unknown>) {
  const joined = await c.request('join', payload);
  if (joined.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(joined)}`);
  const pages: Extract<ServerMessage, { type: 'history' }>['payload'][] = [];
  for (;;) {
    const page = await c.next(
      (m) => m.type === 'history' && m.payload.room_id === payload.room_id && !pages.includes(m.payload),
    );
    if (page.type !== 'history') throw new Error('unreachable');
    pages.push(page.payload);
    if (!page.payload.has_more) break;
  }
  return { joined: joined.payload, pages };
}

async function say(c: TestClient, room: string, ...texts: string[]): Promise<void> {
  for (const message of texts) {
    const ack = await c.request('message', { room_id: room, message });
    expect(ack.type).toBe('message');
  }
}

describe('joined.epoch and join {since_seq, epoch}', () => {
  it('a room made again after expiry is another history: an old since_seq with its epoch gets the latest page, not a replay', async () => {
    const server = await serve({ store: new MemoryStore(), roomIdleExpiryMs: 50 });
    const alice = await connect(server, 'alice');
    const first = await enterRoom(alice, { room_id: 'temp' });
    const oldEpoch = first.joined.epoch;
    expect(oldEpoch).toMatch(/^[0-9a-z]+$/);
    await say(alice, 'temp', 'old 1', 'old 2', 'old 3');
    // bob read up to seq 2 of that history, then went away.
    await alice.request('leave', { room_id: 'temp' });
    await until(() => server.hub.room('temp') === undefined);

    // The id is taken again: a new room, seqs from 1, more of them than bob's since_seq.
    const carol = await connect(server, 'carol');
    const again = await enterRoom(carol, { room_id: 'temp' });
    expect(again.joined.epoch).not.toBe(oldEpoch);
    await say(carol, 'temp', 'new 1', 'new 2', 'new 3', 'new 4', 'new 5');

    const bob = await connect(server, 'bob');
    const back = await enterRoom(bob, { room_id: 'temp', since_seq: 2, epoch: oldEpoch });
    expect(back.joined).toMatchObject({ last_seq: 5, epoch: again.joined.epoch });
    // The latest page (a join's, without `recovered`), every message of the new history.
    expect(back.pages).toHaveLength(1);
    expect(back.pages[0]!.recovered).toBeUndefined();
    expect(back.pages[0]!.messages.map((m) => m.message)).toEqual([
      'new 1',
      'new 2',
      'new 3',
      'new 4',
      'new 5',
    ]);

    // The epoch it names now resumes as ever; without an epoch, since_seq alone is trusted.
    const dave = await connect(server, 'dave');
    const resumed = await enterRoom(dave, { room_id: 'temp', since_seq: 3, epoch: again.joined.epoch });
    expect(resumed.pages.map((p) => p.recovered)).toEqual([true]);
    expect(resumed.pages[0]!.messages.map((m) => m.seq)).toEqual([4, 5]);
    const erin = await connect(server, 'erin');
    const plain = await enterRoom(erin, { room_id: 'temp', since_seq: 3 });
    expect(plain.pages[0]!.messages.map((m) => m.seq)).toEqual([4, 5]);
  });

  it('the epoch outlives a restart on the same data directory, and differs on a new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-epoch-'));
    const dataA = join(dir, 'a');
    // Started and closed here, not by the file's hooks: the test restarts it on the same files.
    const one = await startTestServer({ dataDir: dataA });
    const alice = await connect(one, 'alice');
    const before = await enterRoom(alice, { room_id: 'lobby' });
    await say(alice, 'lobby', 'one', 'two');
    alice.close();
    await one.close();

    const two = await startTestServer({ dataDir: dataA });
    const back = await connect(two, 'alice');
    const resumed = await enterRoom(back, { room_id: 'lobby', since_seq: 1, epoch: before.joined.epoch });
    expect(resumed.joined.epoch).toBe(before.joined.epoch);
    expect(resumed.pages[0]).toMatchObject({ recovered: true, messages: [{ seq: 2, message: 'two' }] });
    back.close();
    await two.close();

    // A new data directory: its lobby has seqs of its own.
    const three = await serve({ dataDir: join(dir, 'b') });
    const writer = await connect(three, 'writer');
    await enterRoom(writer, { room_id: 'lobby' });
    await say(writer, 'lobby', 'other 1', 'other 2', 'other 3');
    const elsewhere = await connect(three, 'alice');
    const fresh = await enterRoom(elsewhere, { room_id: 'lobby', since_seq: 1, epoch: before.joined.epoch });
    expect(fresh.joined.epoch).not.toBe(before.joined.epoch);
    expect(fresh.pages[0]!.recovered).toBeUndefined();
    expect(fresh.pages[0]!.messages.map((m) => m.message)).toEqual(['other 1', 'other 2', 'other 3']);
  });

  it('refuses an epoch that is not a short string', async () => {
    const server = await serve();
    const c = await connect(server, 'fuzzy');
    for (const epoch of ['', 'x'.repeat(33), 42, null]) {
      const reply = await c.request('join', { room_id: 'lobby', since_seq: 0, epoch });
      expect(reply).toMatchObject({ type: 'error', payload: { code: 'invalid_payload' } });
    }
  });
});
