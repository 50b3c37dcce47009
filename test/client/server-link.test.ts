import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/client/backoff.js';
import {
  createConnection,
  type ConnectionSignal,
  type WsChatConnection,
} from '../../src/client/server-link.js';
import type { ChatMessage, ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** Polls `check` until it holds (bounded): the tests never sleep a fixed time. */
async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client that records every signal. */
function recorder(conn: WsChatConnection) {
  const signals: ConnectionSignal[] = [];
  conn.subscribe((s) => signals.push(s));
  const events = () => signals.flatMap((s) => (s.kind === 'event' ? [s.event] : []));
  const messages = (room: string): ChatMessage[] =>
    events().flatMap((e) => {
      if (e.type === 'message' && e.payload.room_id === room) return [e.payload];
      if (e.type === 'history' && e.payload.room_id === room) return e.payload.messages;
      return [];
    });
  const statuses = () => signals.flatMap((s) => (s.kind === 'status' ? [s.status.state] : []));
  return { signals, events, messages, statuses };
}

/** A bare protocol client for the "other people" in a test. */
async function rawClient(url: string, nick: string) {
  const ws = new WebSocket(url);
  const inbox: ServerMessage[] = [];
  ws.on('message', (d) => inbox.push(JSON.parse(d.toString()) as ServerMessage));
  await new Promise((r) => ws.once('open', r));
  const send = (type: string, payload: unknown, ref?: string) =>
    ws.send(JSON.stringify({ type, payload, ref }));
  send('hello', { user_name: nick });
  send('join', { room_id: 'lobby' });
  await until('raw client joined', () => inbox.some((e) => e.type === 'joined'));
  return { ws, inbox, send };
}

const FAST = { pingIntervalMs: 50, backoff: { baseMs: 20, maxMs: 100 } };

describe('backoff', () => {
  it.each([
    [0, 0, 250],
    [0, 1, 500],
    [1, 0, 500],
    [3, 0.5, 3000],
    [20, 1, 10_000],
  ])('attempt %i with random %f waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, { baseMs: 500, maxMs: 10_000 }, () => random)).toBe(expected);
  });
});

describe('WsChatConnection against the real server', () => {
  let server: RunningServer;
  let proxy: TcpProxy;
  const open: { close(): void }[] = [];

  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startProxy(server.port);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await proxy.close();
    await server.close();
  });

  const connectAs = (nick: string, extra: Partial<Parameters<typeof createConnection>[0]> = {}) => {
    const conn = createConnection({ url: `ws://127.0.0.1:${proxy.port}/ws`, nick, ...FAST, ...extra });
    open.push(conn);
    const rec = recorder(conn);
    conn.start();
    return { conn, rec };
  };

  it('identifies, joins the default room and reports lag', async () => {
    const { rec } = connectAs('alice');
    await until('joined lobby', () =>
      rec.events().find((e) => e.type === 'joined' && e.payload.room_id === 'lobby'),
    );
    expect(rec.statuses()).toContain('connected');
    await until('a lag sample', () => rec.signals.find((s) => s.kind === 'lag'));
  });

  it('started before anybody listens, it hands what it heard meanwhile to the first subscriber', async () => {
    // chat connect starts connecting while the screen code loads, then the App subscribes.
    const conn = createConnection({ url: `ws://127.0.0.1:${proxy.port}/ws`, nick: 'early', ...FAST });
    open.push(conn);
    conn.start();
    await until('connected', () => conn.currentStatus().state === 'connected');
    const rec = recorder(conn);
    await until('joined lobby', () => rec.events().find((e) => e.type === 'joined'));
    expect(rec.events()[0]?.type).toBe('welcome');
    expect(rec.statuses()).toEqual(['connected']);
  });

  it('reports a taken nick, then binds the one chosen instead', async () => {
    const bob = await rawClient(server.url, 'alice');
    const { conn, rec } = connectAs('alice');
    const rejected = await until('nick_rejected', () => rec.signals.find((s) => s.kind === 'nick_rejected'));
    expect(rejected).toMatchObject({ nick: 'alice', code: 'nick_taken' });
    conn.identify('alice2');
    const welcome = await until('welcome', () => rec.events().find((e) => e.type === 'welcome'));
    expect(welcome.payload).toMatchObject({ user_name: 'alice2' });
    bob.ws.close();
  });

  it('after a drop it reconnects, rejoins with since_seq and gets exactly what it missed, once', async () => {
    const bob = await rawClient(server.url, 'bob');
    const { conn, rec } = connectAs('alice');
    conn.joinRoom('dev');
    await until('joined dev', () =>
      rec.events().some((e) => e.type === 'joined' && e.payload.room_id === 'dev'),
    );
    for (let i = 1; i <= 3; i++) bob.send('message', { room_id: 'lobby', message: `before ${i}` });
    await until('3 messages', () => rec.messages('lobby').length === 3);

    proxy.refuse(true);
    proxy.dropAll();
    await until('reconnecting', () => rec.statuses().includes('reconnecting'));
    for (let i = 1; i <= 5; i++) bob.send('message', { room_id: 'lobby', message: `missed ${i}` });
    const sent = conn.sendMessage('lobby', 'typed while offline');
    await until('bob saw the 5', () => bob.inbox.filter((e) => e.type === 'message').length >= 8);
    proxy.refuse(false);

    await until('offline message acknowledged', () =>
      rec.events().some((e) => e.type === 'message' && e.payload.client_msg_id === sent),
    );
    const texts = rec.messages('lobby').map((m) => m.message);
    expect(texts).toEqual([
      'before 1',
      'before 2',
      'before 3',
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'missed 5',
      'typed while offline',
    ]);
    const seqs = rec.messages('lobby').map((m) => m.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Both rooms were rejoined.
    const joins = rec
      .events()
      .filter((e) => e.type === 'joined')
      .map((e) => (e.payload as { room_id: string }).room_id);
    expect(joins.filter((r) => r === 'dev')).toHaveLength(2);
    bob.ws.close();
  });

  it('a message sent right after joinRoom reaches the new room once it is joined', async () => {
    const bob = await rawClient(server.url, 'bob');
    bob.send('join', { room_id: 'ops' });
    const { conn, rec } = connectAs('alice');
    await until('connected', () => rec.statuses().includes('connected'));
    conn.joinRoom('ops');
    const id = conn.sendMessage('ops', 'first words in ops');
    const ack = await until('acknowledged', () =>
      rec.events().find((e) => e.type === 'message' && e.ref === id),
    );
    expect(ack.payload).toMatchObject({ room_id: 'ops', message: 'first words in ops' });
    const order = rec
      .events()
      .flatMap((e) =>
        (e.type === 'joined' || e.type === 'message') && e.payload.room_id === 'ops' ? [e.type] : [],
      );
    expect(order).toEqual(['joined', 'message']);
    await until('bob got it', () => bob.inbox.some((e) => e.type === 'message'));
    bob.ws.close();
  });

  it('a refused join is reported, and the message waiting for it is never sent', async () => {
    await server.close();
    server = await startTestServer({
      maxRoomsPerUser: 1,
    });
    await proxy.close();
    proxy = await startProxy(server.port);
    const { conn, rec } = connectAs('alice');
    await until('in lobby', () => rec.events().some((e) => e.type === 'joined'));
    conn.joinRoom('ops');
    conn.sendMessage('ops', 'never sent');
    const failed = await until('join_failed', () => rec.signals.find((s) => s.kind === 'join_failed'));
    expect(failed).toMatchObject({ roomId: 'ops', code: 'too_many_rooms' });
    // Leaving the refused room locally tells the server nothing (it would answer not_in_room).
    conn.leaveRoom('ops');
    // The session answers in order: once /rooms is answered, any error for the above is in.
    conn.send({ type: 'rooms', payload: null });
    await until('rooms', () => rec.events().some((e) => e.type === 'rooms'));
    expect(rec.events().filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a join taken back at once (/join then /leave) never surfaces as joined', async () => {
    const { conn, rec } = connectAs('alice');
    await until('in lobby', () => rec.events().some((e) => e.type === 'joined'));
    conn.joinRoom('typo');
    conn.leaveRoom('typo');
    // The session answers in order: once /rooms is answered, the join and leave were too.
    conn.send({ type: 'rooms', payload: null });
    await until('rooms', () => rec.events().some((e) => e.type === 'rooms'));
    const typo = rec.events().filter((e) => e.type === 'joined' && e.payload.room_id === 'typo');
    expect(typo).toEqual([]);
  });

  it('a burst past the rate limit (a pasted block) is paced and delivered whole, in order', async () => {
    await server.close();
    server = await startTestServer({
      rateLimit: { burst: 3, perSecond: 20 },
    });
    await proxy.close();
    proxy = await startProxy(server.port);
    const { conn, rec } = connectAs('alice');
    await until('in lobby', () => rec.events().some((e) => e.type === 'joined'));
    const lines = Array.from({ length: 12 }, (_, i) => `pasted line ${i + 1}`);
    for (const line of lines) conn.sendMessage('lobby', line);
    await until('all 12 acknowledged', () => rec.messages('lobby').length === 12);
    expect(rec.messages('lobby').map((m) => m.message)).toEqual(lines);
    // The refusals were the connection's business: nothing for the user to see.
    expect(rec.events().filter((e) => e.type === 'error')).toEqual([]);
  });

  it('a message whose acknowledgement was lost is resent under the same id and stored once', async () => {
    const bob = await rawClient(server.url, 'bob');
    const { conn, rec } = connectAs('alice');
    await until('joined', () => rec.events().some((e) => e.type === 'joined'));
    proxy.mute(true);
    const id = conn.sendMessage('lobby', 'exactly once');
    await until('bob got it', () => bob.inbox.some((e) => e.type === 'message'));
    expect(rec.events().some((e) => e.type === 'message')).toBe(false);
    proxy.dropAll();
    proxy.mute(false);
    await until('acknowledged', () => rec.events().some((e) => e.type === 'message' && e.ref === id));
    bob.send('history', { room_id: 'lobby' }, 'h');
    const page = await until('history', () => bob.inbox.find((e) => e.type === 'history' && e.ref === 'h'));
    expect((page.payload as { messages: ChatMessage[] }).messages.map((m) => m.message)).toEqual([
      'exactly once',
    ]);
    expect(bob.inbox.filter((e) => e.type === 'message')).toHaveLength(1);
    bob.ws.close();
  });

  it('after a restart that lost the history, it resumes from the new seq 1', async () => {
    const { rec } = connectAs('alice');
    let bob = await rawClient(server.url, 'bob');
    for (let i = 1; i <= 3; i++) bob.send('message', { room_id: 'lobby', message: `old ${i}` });
    await until('3 old messages', () => rec.messages('lobby').length === 3);
    bob.ws.close();
    const port = server.port;
    await server.close();
    server = await startTestServer({ port });
    await until('welcomed again', () => rec.events().filter((e) => e.type === 'welcome').length === 2);
    bob = await rawClient(server.url, 'bob');
    bob.send('message', { room_id: 'lobby', message: 'new 1' });
    await until('the new message', () => rec.messages('lobby').some((m) => m.message === 'new 1'));
    expect(rec.messages('lobby').find((m) => m.message === 'new 1')?.seq).toBe(1);
    // Its next resume asks from the new history, not the old seq.
    proxy.dropAll();
    bob.send('message', { room_id: 'lobby', message: 'new 2' });
    await until('new 2 after another drop', () => rec.messages('lobby').some((m) => m.message === 'new 2'));
    bob.ws.close();
  });

  it('back on a server whose room is another history, past the seq it held: the latest page, no replay of other messages', async () => {
    const { rec } = connectAs('alice');
    let bob = await rawClient(server.url, 'bob');
    for (let i = 1; i <= 2; i++) bob.send('message', { room_id: 'lobby', message: `old ${i}` });
    await until('2 old messages', () => rec.messages('lobby').length === 2);
    bob.ws.close();
    // alice cannot get back until the new server's lobby has gone past her seq 2.
    proxy.refuse(true);
    proxy.dropAll();
    const port = server.port;
    await server.close();
    server = await startTestServer({ port });
    bob = await rawClient(server.url, 'bob');
    for (let i = 1; i <= 4; i++) bob.send('message', { room_id: 'lobby', message: `new ${i}` });
    await until('bob hears his 4', () => bob.inbox.filter((e) => e.type === 'message').length === 4);
    proxy.refuse(false);
    await until('welcomed again', () => rec.events().filter((e) => e.type === 'welcome').length === 2);
    await until('the new history', () => rec.messages('lobby').some((m) => m.message === 'new 4'));
    // Without the epoch the join would have replayed seqs 3 and 4 as if they followed 'old 2'.
    expect(rec.messages('lobby').map((m) => m.message)).toEqual([
      'old 1',
      'old 2',
      'new 1',
      'new 2',
      'new 3',
      'new 4',
    ]);
    const pages = rec.events().filter((e) => e.type === 'history' && e.payload.room_id === 'lobby');
    expect(pages.at(-1)?.payload).not.toHaveProperty('recovered');
    bob.ws.close();
  });

  it('takes its nick back from a dead link the server has not noticed (resume token)', async () => {
    const { rec } = connectAs('alice', { pingIntervalMs: 30, deadAfterMs: 200 });
    await until('connected', () => rec.statuses().includes('connected'));
    proxy.strand(true);
    proxy.blackhole(true);
    await until('reconnecting', () => rec.statuses().includes('reconnecting'));
    proxy.blackhole(false);
    await until('welcomed again', () => rec.events().filter((e) => e.type === 'welcome').length === 2);
    expect(rec.signals.some((s) => s.kind === 'nick_rejected')).toBe(false);
    expect(server.hub.snapshot().users).toBe(1);
  });

  it('a silent link is declared dead and replaced', async () => {
    const { rec } = connectAs('alice', { pingIntervalMs: 30, deadAfterMs: 200 });
    await until('connected', () => rec.statuses().includes('connected'));
    proxy.blackhole(true);
    await until('reconnecting', () => rec.statuses().includes('reconnecting'));
    proxy.blackhole(false);
    await until('connected again', () => rec.statuses().filter((s) => s === 'connected').length === 2);
  });

  it('shows the lag growing while a ping is unanswered, then declares a hung server lost', async () => {
    // A hung server (SIGSTOP) keeps its socket open and says nothing: muting the proxy's
    // server-to-client direction is the same from the client's side.
    const { rec } = connectAs('alice', { pingIntervalMs: 40, deadAfterMs: 600 });
    await until(
      'connected and a lag sample',
      () => rec.statuses().includes('connected') && rec.signals.some((s) => s.kind === 'lag'),
    );
    const before = rec.signals.length;
    proxy.mute(true);
    await until('reconnecting', () => rec.statuses().includes('reconnecting'), 5_000);
    const during = rec.signals.slice(before);
    const cut = during.findIndex((s) => s.kind === 'status' && s.status.state === 'reconnecting');
    const lags = during.slice(0, cut).flatMap((s) => (s.kind === 'lag' ? [s.ms] : []));
    // The lag shown kept growing past anything a live link answers in, before the cut.
    expect(lags.length).toBeGreaterThan(2);
    expect(Math.max(...lags)).toBeGreaterThanOrEqual(300);
    const status = during[cut];
    expect(
      status?.kind === 'status' && status.status.state === 'reconnecting' && status.status.reason,
    ).toMatch(/no answer from the server/);
    proxy.mute(false);
    await until('connected again', () => rec.statuses().filter((s) => s === 'connected').length === 2);
  });

  it('backs off with growing delays while the server is gone', async () => {
    const { rec } = connectAs('alice');
    await until('connected', () => rec.statuses().includes('connected'));
    proxy.refuse(true);
    proxy.dropAll();
    const attempts = await until('three attempts', () => {
      const a = rec.signals.flatMap((s) =>
        s.kind === 'status' && s.status.state === 'reconnecting' ? [s.status.attempt] : [],
      );
      return a.length >= 3 ? a : undefined;
    });
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('remembers the password after /register so a reconnect can take the nick back', async () => {
    const { conn, rec } = connectAs('alice');
    await until('connected', () => rec.statuses().includes('connected'));
    conn.send({ type: 'register', payload: { password: 'correct horse' } });
    await until('registered', () => rec.events().some((e) => e.type === 'registered'));
    proxy.dropAll();
    await until('welcomed twice', () => rec.events().filter((e) => e.type === 'welcome').length === 2);
    expect(rec.signals.some((s) => s.kind === 'nick_rejected')).toBe(false);
  });
});
