/** The after-abuse check every robustness test ends with: a normal client still chats. */
import { expect } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import { TestClient } from './ws-client.js';

let n = 0;

/**
 * Two fresh WebSocket clients identify, join a fresh room, and one sends a message: the sender
 * gets its acknowledgement (same ref) and the other member receives it. They connect from a
 * loopback address of their own (127.0.0.2 and up): the abuse came from 127.0.0.1 and may have
 * spent that address's read, presence and room rates, as it should; the check is that everybody
 * else is still served.
 */
export async function expectStillChats(url: string): Promise<void> {
  const tag = `${process.pid.toString(36)}${(n++).toString(36)}`;
  const localAddress = `127.0.0.${2 + (n % 250)}`;
  const a = await TestClient.open(url, { localAddress });
  const b = await TestClient.open(url, { localAddress });
  try {
    expect((await a.hello(`ok_a${tag}`)).type).toBe('welcome');
    expect((await b.hello(`ok_b${tag}`)).type).toBe('welcome');
    const room = `after.${tag}`;
    expect((await a.request('join', { room_id: room })).type).toBe('joined');
    expect((await b.request('join', { room_id: room })).type).toBe('joined');
    const ack = await a.request('message', { room_id: room, message: 'still here' });
    expect(ack.type).toBe('message');
    const got = await b.next(
      (m: ServerMessage) => m.type === 'message' && m.payload.message === 'still here',
    );
    expect(got.payload).toMatchObject({ room_id: room, user_name: `ok_a${tag}` });
  } finally {
    a.close();
    b.close();
  }
}
