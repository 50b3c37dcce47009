import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/state/actions.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState, Conversation } from '../../src/client/state/types.js';
import { App } from '../../src/client/tui/App.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

/** Topics and moderation in `chat connect`: the reducer's state and notices, and the drawn screen. */

const NOW = 1_700_000_100_000;
const server = (event: ServerMessage): Action => ({ type: 'server', event, now: NOW });
const run = (actions: Action[], state = initialState('ws://test', 'alice')): ChatState =>
  actions.reduce(reducer, state);
const conv = (s: ChatState, id: string): Conversation => s.conversations[id]!;
const notices = (c: Conversation) => c.entries.flatMap((e) => (e.kind === 'notice' ? [e.text] : []));

const modes = { topic_locked: false, invite_only: false, moderated: false };

function inDev(): ChatState {
  return run([
    server(welcome('alice')),
    server(
      ev('joined', {
        room_id: 'dev',
        room_name: 'dev',
        members: ['alice', 'bob', 'carol'],
        last_seq: 3,
        topic: { text: 'ship friday', set_by: 'carol', set_ts: NOW },
        roles: { carol: 'owner', bob: 'voice' },
        modes,
      }),
    ),
  ]);
}

describe('the reducer', () => {
  it('keeps the topic, roles and modes a joined carries', () => {
    const c = conv(inDev(), 'dev');
    expect(c.topic).toMatchObject({ text: 'ship friday', set_by: 'carol' });
    expect(c.roles).toEqual({ carol: 'owner', bob: 'voice' });
    expect(c.modes).toEqual(modes);
  });

  it('a topic line is a message of kind topic that also becomes the room topic', () => {
    const s = run([server(ev('message', msg('dev', 4, 'bob', 'new topic', { kind: 'topic' })))], inDev());
    const last = conv(s, 'dev').entries.at(-1)!;
    expect(last).toMatchObject({ kind: 'message', msgKind: 'topic', text: 'new topic', nick: 'bob' });
    expect(conv(s, 'dev').topic).toMatchObject({ text: 'new topic', set_by: 'bob' });
  });

  it('a kick reads as one, for the others and for the kicked', () => {
    const kicked = (user: string) =>
      server(ev('user_left', { room_id: 'dev', user_name: user, reason: 'spamming', kicked_by: 'carol' }));
    const s = run([kicked('bob')], inDev());
    expect(notices(conv(s, 'dev'))).toContain('bob was kicked from #dev by carol (spamming)');
    expect(conv(s, 'dev').members).toEqual(['alice', 'carol']);
    const me = run([kicked('alice')], s);
    expect(notices(conv(me, 'dev'))).toContain('you were kicked from #dev by carol (spamming)');
    expect(conv(me, 'dev').joined).toBe(false);
  });

  it('role and mode changes update the room and say so; /users marks @ and +', () => {
    const s = run(
      [
        server(ev('role_changed', { room_id: 'dev', user_name: 'alice', role: 'operator', by: 'carol' })),
        server(
          ev('modes_changed', {
            room_id: 'dev',
            modes: { topic_locked: true, invite_only: false, moderated: true },
            by: 'carol',
          }),
        ),
        server(ev('role_changed', { room_id: 'dev', user_name: 'bob', role: null, by: 'carol' })),
        server(
          ev('users', {
            room_id: 'dev',
            users: ['alice', 'bob', 'carol'],
            roles: { carol: 'owner', alice: 'operator', bob: 'voice' },
          }),
        ),
      ],
      inDev(),
    );
    const c = conv(s, 'dev');
    expect(c.modes).toEqual({ topic_locked: true, invite_only: false, moderated: true });
    expect(notices(c)).toEqual(
      expect.arrayContaining([
        'carol made alice an operator',
        'carol set the modes: +mt',
        "carol took bob's operator status or voice away",
        '3 in #dev: @alice, +bob, @carol',
      ]),
    );
  });
});

const SGR = /\x1b\[[0-9;]*m/g;
const plain = (frame: string | undefined) => (frame ?? '').replace(SGR, '');
const apps: ReturnType<typeof render>[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.unmount();
});

async function frameWith(r: ReturnType<typeof render>, text: string): Promise<string> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const frame = plain(r.lastFrame());
    if (frame.includes(text)) return frame;
    if (Date.now() > deadline) throw new Error(`no "${text}" in:\n${frame}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the screen', () => {
  it('draws topic, kick and mode lines', async () => {
    const conn = new FakeConnection();
    const r = render(<App connection={conn} nick="alice" size={{ columns: 100, rows: 24 }} />);
    apps.push(r);
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob', 'carol']));
    conn.emit(ev('message', msg('lobby', 1, 'carol', 'release on friday', { kind: 'topic' })));
    await frameWith(r, '-- carol set the topic: release on friday');
    conn.emit(ev('modes_changed', { room_id: 'lobby', modes: { ...modes, moderated: true }, by: 'carol' }));
    await frameWith(r, 'carol set the modes: +m');
    conn.emit(
      ev('user_left', { room_id: 'lobby', user_name: 'bob', reason: 'spamming', kicked_by: 'carol' }),
    );
    const frame = await frameWith(r, 'bob was kicked from #lobby by carol (spamming)');
    expect(frame).not.toContain('<carol> release on friday');
  });
});
