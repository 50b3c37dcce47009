import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/index.js';
import { startTestServer } from '../helpers/test-server.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Topics, owners, operators, voice, modes and bans are kept with the room in the SQLite file:
 * a server started again on the same data directory enforces and reports them as before.
 */

const PASSWORD = 'correct horse battery';
const dirs: string[] = [];
const clients: TestClient[] = [];
let server: RunningServer | undefined;

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function start(dataDir: string): Promise<RunningServer> {
  return startTestServer({ dataDir, rateLimit: false, presenceLimit: false, passwordLimit: false });
}

async function open(nick: string, password?: string): Promise<TestClient> {
  const c = await TestClient.open(server!.url);
  clients.push(c);
  const welcome = await c.request('hello', { user_name: nick, ...(password ? { password } : {}) });
  expect(welcome.type, JSON.stringify(welcome)).toBe('welcome');
  return c;
}

const code = (m: ServerMessage): string | undefined => (m.type === 'error' ? m.payload.code : undefined);

describe('moderation across a restart', () => {
  it('keeps the topic, owner, operators, voice, modes and bans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-mod-restart-'));
    dirs.push(dir);
    server = await start(dir);
    const alice = await open('alice');
    await alice.request('register', { password: PASSWORD });
    expect((await alice.request('join', { room_id: 'kept' })).type).toBe('joined');
    const bob = await open('bob');
    await bob.request('register', { password: PASSWORD });
    await bob.request('join', { room_id: 'kept' });
    const carol = await open('carol');
    await carol.request('join', { room_id: 'kept' });
    await alice.request('role', { room_id: 'kept', user_name: 'bob', role: 'operator' });
    await alice.request('role', { room_id: 'kept', user_name: 'carol', role: 'voice' });
    await alice.request('topic', { room_id: 'kept', topic: 'survives restarts' });
    expect((await alice.request('mode', { room_id: 'kept', modes: '+tm' })).type).toBe('modes_changed');
    expect((await bob.request('ban', { room_id: 'kept', mask: 'eve' })).type).toBe('ban_changed');
    expect((await bob.request('ban', { room_id: 'kept', mask: '*@198.51.100.*' })).type).toBe('ban_changed');
    for (const c of clients.splice(0)) c.close();
    await server.close();

    server = await start(dir);
    const dan = await open('dan');
    const joined = await dan.request('join', { room_id: 'kept' });
    expect(joined).toMatchObject({
      type: 'joined',
      payload: {
        topic: { text: 'survives restarts', set_by: 'alice' },
        modes: { topic_locked: true, invite_only: false, moderated: true },
      },
    });
    expect((await dan.request('mode', { room_id: 'kept' })).payload).toMatchObject({
      owner: 'alice',
      operators: ['bob'],
      voiced: ['carol'],
    });
    expect((await dan.request('ban', { room_id: 'kept' })).type).toBe('error'); // bans are listed to operators
    // +m and +t still hold for a plain member.
    expect(code(await dan.request('message', { room_id: 'kept', message: 'hi' }))).toBe('moderated');
    expect(code(await dan.request('topic', { room_id: 'kept', topic: 'x' }))).toBe('topic_locked');
    // bob is still an operator once he proves his nick, and the bans are there.
    const bob2 = await open('bob', PASSWORD);
    await bob2.request('join', { room_id: 'kept' });
    expect((await bob2.request('ban', { room_id: 'kept' })).payload).toMatchObject({
      bans: [{ mask: 'eve' }, { mask: '*@198.51.100.*' }],
    });
    const eve = await open('eve');
    expect(code(await eve.request('join', { room_id: 'kept' }))).toBe('banned');
    // The owner still grants operator status.
    const alice2 = await open('alice', PASSWORD);
    await alice2.request('join', { room_id: 'kept' });
    expect(code(await alice2.request('role', { room_id: 'kept', user_name: 'dan', role: 'operator' }))).toBe(
      'not_registered',
    );
    expect((await alice2.request('role', { room_id: 'kept', user_name: 'dan', role: 'voice' })).type).toBe(
      'role_changed',
    );
  });
});
