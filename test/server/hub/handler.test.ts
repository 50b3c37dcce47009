import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { ClientMessage } from '../../../src/protocol/schema.js';
import { Hub, type HubOptions } from '../../../src/server/hub.js';
import { MemoryStore } from '../../../src/server/store/memory.js';
import { MemoryConnection } from '../../helpers/memory-connection.js';

/** A hub over a memory store, driven without sockets. */
async function startHub(options: Partial<HubOptions> = {}) {
  const hub = new Hub({ store: new MemoryStore(), identifyTimeoutMs: 0, ...options });
  await hub.init();
  let refs = 0;
  const client = () => {
    const conn = new MemoryConnection();
    const session = hub.connect(conn);
    const request = (type: ClientMessage['type'], payload: unknown): Promise<ServerMessage> => {
      const ref = `r${refs++}`;
      hub.dispatch(session, { type, payload, ref } as ClientMessage);
      return conn.reply(ref);
    };
    return { conn, session, request };
  };
  return { hub, client };
}

/** The error code of a reply, or its type when it is no error. */
function outcome(m: ServerMessage): string {
  return m.type === 'error' ? m.payload.code : m.type;
}

describe('Hub handler table: preconditions, checked before any handler runs, in order', () => {
  it('asks for a nick first, before the room or membership', async () => {
    const { client } = await startHub();
    const anon = client();
    expect(outcome(await anon.request('message', { room_id: 'nowhere', message: 'hi' }))).toBe(
      'not_identified',
    );
    expect(outcome(await anon.request('message', { room_id: 'lobby', message: 'hi' }))).toBe(
      'not_identified',
    );
    expect(outcome(await anon.request('dm', { to: 'somebody', message: 'hi' }))).toBe('not_identified');
    expect(outcome(await anon.request('nick', { user_name: 'new' }))).toBe('not_identified');
    expect(outcome(await anon.request('register', { password: 'correct horse' }))).toBe('not_identified');
  });

  it('then the room, then membership, each with its own words', async () => {
    const { client } = await startHub();
    const ann = client();
    expect(outcome(await ann.request('hello', { user_name: 'ann' }))).toBe('welcome');
    expect(outcome(await ann.request('message', { room_id: 'nowhere', message: 'hi' }))).toBe('no_such_room');
    const notJoined = await ann.request('message', { room_id: 'lobby', message: 'hi' });
    expect(notJoined).toMatchObject({
      type: 'error',
      payload: { code: 'not_in_room', message: 'join lobby before sending to it' },
    });
    // leave needs no nick, but the room and membership.
    const anon = client();
    expect(outcome(await anon.request('leave', { room_id: 'nowhere' }))).toBe('no_such_room');
    expect(await anon.request('leave', { room_id: 'lobby' })).toMatchObject({
      type: 'error',
      payload: { code: 'not_in_room', message: 'you are not in lobby' },
    });
  });

  it('charges a read only once the room is known: a missing room costs no token', async () => {
    const { client } = await startHub({ readLimit: { burst: 1, perSecond: 0.001 }, readAddressLimit: false });
    const reader = client();
    for (let i = 0; i < 3; i++)
      expect(outcome(await reader.request('history', { room_id: 'nowhere' }))).toBe('no_such_room');
    expect(outcome(await reader.request('history', { room_id: 'lobby' }))).toBe('history');
    expect(outcome(await reader.request('users', { room_id: 'lobby' }))).toBe('rate_limited');
  });

  it('lets a one-shot post skip membership but not identity or the room', async () => {
    const { hub, client } = await startHub();
    const poster = client();
    const post = (room: string, ref: string) => {
      hub.postOnce(poster.session, { type: 'message', payload: { room_id: room, message: 'one-shot' }, ref });
      return poster.conn.reply(ref);
    };
    expect(outcome(await post('lobby', 'p0'))).toBe('not_identified');
    expect(outcome(await poster.request('hello', { user_name: 'poster' }))).toBe('welcome');
    expect(outcome(await post('nowhere', 'p1'))).toBe('no_such_room');
    expect(await post('lobby', 'p2')).toMatchObject({
      type: 'message',
      payload: { user_name: 'poster', message: 'one-shot' },
    });
  });
});
