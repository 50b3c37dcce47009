import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { RunningServer } from '../../../src/server/server.js';
import { startTestServer } from '../../helpers/test-server.js';
import { parseEventId } from '../../../src/server/transports/sse.js';
import { SseTestClient } from '../../helpers/sse-client.js';
import { TestClient } from '../../helpers/ws-client.js';

let server: RunningServer;
const open: { close(): void }[] = [];
const track = <T extends { close(): void }>(c: T): T => (open.push(c), c);
let n = 0;

beforeAll(async () => {
  server = await startTestServer({
    rateLimit: false,
    sseHeartbeatMs: 100,
  });
});
afterAll(async () => {
  for (const c of open) c.close();
  await server.close();
});

async function speaker(room: string): Promise<{ ws: TestClient; say(text: string): Promise<number> }> {
  const ws = track(await TestClient.open(server.url));
  await ws.request('join', { room_id: room, user_name: `sp${++n}` });
  return {
    ws,
    async say(text) {
      const ack = await ws.request('message', { room_id: room, message: text });
      return (ack as Extract<ServerMessage, { type: 'message' }>).payload.seq;
    },
  };
}

const stream = (query = '', headers: Record<string, string> = {}): Promise<SseTestClient> =>
  SseTestClient.open(`${server.httpUrl}/stream${query}`, headers).then(track);

describe('GET /stream', () => {
  it('is an event stream of the default room: each message an event with id = seq@epoch', async () => {
    const s = await stream();
    expect(s.status).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const joined = await s.waitEvent('joined');
    const epoch = (JSON.parse(joined.data) as { payload: { epoch: string } }).payload.epoch;
    expect(epoch).toMatch(/^[0-9a-z]+$/);
    const sp = await speaker('lobby');
    const seq = await sp.say('into the stream');
    const [event] = await s.waitEvent('message', (e) => e.data.includes('into the stream')).then((e) => [e]);
    expect(event!.id).toBe(`${seq}@${epoch}`);
    expect(JSON.parse(event!.data)).toMatchObject({
      type: 'message',
      payload: { room_id: 'lobby', seq, message: 'into the stream' },
    });
  });

  it('carries notices, and the stream is no member: not listed, not announced, no nick', async () => {
    const room = `notice${++n}`;
    const sp = await speaker(room);
    const s = await stream(`?room=${room}`);
    await s.waitEvent('joined');
    const users = await sp.ws.request('users', { room_id: room });
    expect((users as Extract<ServerMessage, { type: 'users' }>).payload.users).toHaveLength(1);
    expect(sp.ws.received.some((m) => m.type === 'user_joined')).toBe(false);
    const other = track(await TestClient.open(server.url));
    await other.request('join', { room_id: room, user_name: 'visitor' });
    await s.waitEvent('user_joined', (e) => e.data.includes('visitor'));
    await other.request('leave', { room_id: room });
    await s.waitEvent('user_left', (e) => e.data.includes('visitor'));
    expect(server.hub.snapshot().connections.sse).toBeGreaterThanOrEqual(1);
  });

  it('resumes with Last-Event-ID: exactly the messages missed, then live ones, no duplicate', async () => {
    const room = `resume${++n}`;
    const sp = await speaker(room);
    const first = await stream(`?room=${room}`);
    await first.waitEvent('joined');
    await sp.say('m1');
    await sp.say('m2');
    const seen = await first.waitMessages(2);
    first.close();
    const lastId = first.events.filter((e) => e.event === 'message').at(-1)!.id!;
    await sp.say('m3');
    await sp.say('m4');
    const second = await stream(`?room=${room}`, { 'Last-Event-ID': lastId });
    await second.waitMessages(2);
    await sp.say('m5');
    const all = await second.waitMessages(3);
    expect(seen.map((m) => m.message)).toEqual(['m1', 'm2']);
    expect(all.map((m) => m.message)).toEqual(['m3', 'm4', 'm5']);
    expect(all.map((m) => m.seq)).toEqual([3, 4, 5]);
    const epoch = lastId.split('@')[1];
    expect(second.events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual(
      [3, 4, 5].map((seq) => `${seq}@${epoch}`),
    );
    // A bare seq (an id from before epochs) still resumes.
    const third = await stream(`?room=${room}`, { 'Last-Event-ID': '4' });
    expect((await third.waitMessages(1)).map((m) => m.message)).toEqual(['m5']);
  });

  it('an id from another history of the room (another epoch) gets gap, not other messages under its numbers', async () => {
    const room = `epoch${++n}`;
    const sp = await speaker(room);
    for (const t of ['a', 'b', 'c']) await sp.say(t);
    const s = await stream(`?room=${room}`, { 'Last-Event-ID': '1@zz1' });
    const gap = await s.waitEvent('gap');
    expect(JSON.parse(gap.data)).toEqual({ room_id: room, recovered: false });
    await s.waitEvent('joined');
    await sp.say('d');
    expect((await s.waitMessages(1)).map((m) => m.message)).toEqual(['d']);
    expect(s.events.filter((e) => e.event === 'message')).toHaveLength(1);
  });

  it('accepts ?since= for clients that cannot set headers', async () => {
    const room = `since${++n}`;
    const sp = await speaker(room);
    for (const t of ['a', 'b', 'c']) await sp.say(t);
    const s = await stream(`?room=${room}&since=1`);
    expect((await s.waitMessages(2)).map((m) => m.message)).toEqual(['b', 'c']);
  });

  it('sends heartbeat comments', async () => {
    const s = await stream();
    await s.waitComment('ping');
  });

  it('answers 404 for an unknown room and 400 for a bad room id, as JSON', async () => {
    const missing = await fetch(`${server.httpUrl}/stream?room=nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'no_such_room' });
    const bad = await fetch(`${server.httpUrl}/stream?room=${encodeURIComponent('no spaces')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_room_id' });
  });

  it('ends the stream with a shutdown event when the server stops', async () => {
    const own = await startTestServer();
    const s = await SseTestClient.open(`${own.httpUrl}/stream`);
    await s.waitEvent('joined');
    await own.close();
    await s.waitEvent('shutdown');
    await s.waitEnded();
  });
});

describe('parseEventId', () => {
  it.each([
    ['12', 12],
    [' 7 ', 7],
    ['0', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['abc', undefined],
    ['', undefined],
    [null, undefined],
    ['9'.repeat(20), undefined],
    ['12@lq3x9a', 12],
    ['12@', undefined],
    ['12@LQ', undefined],
    ['@lq3x9a', undefined],
  ])('%j -> %j', (input, expected) => {
    expect(parseEventId(input)?.seq).toBe(expected);
  });

  it('keeps the epoch of an event id', () => {
    expect(parseEventId('12@lq3x9a')).toEqual({ seq: 12, epoch: 'lq3x9a' });
    expect(parseEventId('12')).toEqual({ seq: 12 });
  });
});
