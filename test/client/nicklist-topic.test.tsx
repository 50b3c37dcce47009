import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/state/actions.js';
import { nickRows } from '../../src/client/state/members.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState, Conversation } from '../../src/client/state/types.js';
import { App } from '../../src/client/tui/App.js';
import { cellWidth } from '../../src/client/tui/layout/wrap.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

/** Issue 15: the topic line, the nick list (Alt+N, /nicklist) and moderation replies where typed. */

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
    server(joined('lobby', ['alice'])),
    server(
      ev('joined', {
        room_id: 'dev',
        room_name: 'dev',
        members: ['alice', 'zed', 'bob', 'carol', 'dave'],
        last_seq: 0,
        roles: { carol: 'owner', dave: 'operator', bob: 'voice' },
        modes,
      }),
    ),
  ]);
}

describe('the nick list rows', () => {
  it('puts operators first, then voice, then the rest, each alphabetical, with @ and +', () => {
    const rows = nickRows(conv(inDev(), 'dev'));
    expect(rows.map((r) => r.prefix + r.nick)).toEqual(['@carol', '@dave', '+bob', 'alice', 'zed']);
  });

  it('follows away, back, nick changes, leaves and role changes', () => {
    const s = run(
      [
        server(ev('user_away', { room_id: 'dev', user_name: 'zed', message: 'lunch' })),
        server(ev('user_away', { room_id: 'dev', user_name: 'bob', message: 'gone' })),
        server(ev('user_away', { room_id: 'dev', user_name: 'bob' })),
        server(ev('nick_changed', { room_id: 'dev', old_name: 'zed', user_name: 'zoe' })),
        server(ev('user_left', { room_id: 'dev', user_name: 'dave' })),
        server(ev('role_changed', { room_id: 'dev', user_name: 'alice', role: 'operator', by: 'carol' })),
        server(ev('user_joined', { room_id: 'dev', user_name: 'eve' })),
      ],
      inDev(),
    );
    expect(nickRows(conv(s, 'dev'))).toEqual([
      { nick: 'alice', prefix: '@', away: false },
      { nick: 'carol', prefix: '@', away: false },
      { nick: 'bob', prefix: '+', away: false },
      { nick: 'eve', prefix: '', away: false },
      { nick: 'zoe', prefix: '', away: true },
    ]);
  });

  it('a role ends with a leave and comes with a join; a rename keeps it (a session operator)', () => {
    const s = run(
      [
        // dave (an operator for his session) renames, then leaves; a new dave joins with nothing.
        server(ev('nick_changed', { room_id: 'dev', old_name: 'dave', user_name: 'david' })),
        server(ev('user_left', { room_id: 'dev', user_name: 'david' })),
        server(ev('user_joined', { room_id: 'dev', user_name: 'david' })),
        // A standing role comes back with the join that says it.
        server(ev('user_left', { room_id: 'dev', user_name: 'carol' })),
        server(ev('user_joined', { room_id: 'dev', user_name: 'carol', role: 'owner' })),
        server(ev('nick_changed', { room_id: 'dev', old_name: 'bob', user_name: 'bobby' })),
      ],
      inDev(),
    );
    expect(nickRows(conv(s, 'dev')).map((r) => r.prefix + r.nick)).toEqual([
      '@carol',
      '+bobby',
      'alice',
      'david',
      'zed',
    ]);
  });

  it('takes away marks from a /users answer', () => {
    const s = run(
      [
        server(
          ev('users', {
            room_id: 'dev',
            users: ['alice', 'bob'],
            members: [{ user_name: 'alice' }, { user_name: 'bob', away: 'brb' }],
            roles: {},
          }),
        ),
      ],
      inDev(),
    );
    expect(nickRows(conv(s, 'dev'))).toEqual([
      { nick: 'alice', prefix: '', away: false },
      { nick: 'bob', prefix: '', away: true },
    ]);
  });
});

describe('moderation replies go where the command was typed', () => {
  it('an /op typed in #lobby about #dev is answered in #lobby too', () => {
    let s = run(
      [
        { type: 'select', id: 'lobby' },
        { type: 'request_sent', ref: 'r1', target: 'lobby' },
      ],
      inDev(),
    );
    s = run(
      [server(ev('role_changed', { room_id: 'dev', user_name: 'bob', role: 'operator', by: 'alice' }, 'r1'))],
      s,
    );
    expect(notices(conv(s, 'lobby'))).toContain('alice made bob an operator');
    expect(notices(conv(s, 'dev'))).toContain('alice made bob an operator');
  });

  it('a /kick and a /mode typed elsewhere are answered there', () => {
    let s = run(
      [
        { type: 'select', id: 'lobby' },
        { type: 'request_sent', ref: 'r1', target: 'lobby' },
        { type: 'request_sent', ref: 'r2', target: 'lobby' },
      ],
      inDev(),
    );
    s = run(
      [
        server(
          ev('user_left', { room_id: 'dev', user_name: 'zed', reason: 'spam', kicked_by: 'alice' }, 'r1'),
        ),
        server(
          ev('modes_changed', { room_id: 'dev', modes: { ...modes, moderated: true }, by: 'alice' }, 'r2'),
        ),
      ],
      s,
    );
    expect(notices(conv(s, 'lobby'))).toEqual([
      'zed was kicked from #dev by alice (spam)',
      'alice set the modes: +m',
    ]);
    expect(notices(conv(s, 'dev'))).toContain('zed was kicked from #dev by alice (spam)');
  });

  it('an /invite answer shows where it was typed, not where the user is now', () => {
    let s = run(
      [
        { type: 'select', id: 'dev' },
        { type: 'request_sent', ref: 'r1', target: 'dev' },
      ],
      inDev(),
    );
    s = run(
      [
        { type: 'select', id: 'lobby' },
        server(ev('invited', { room_id: 'dev', user_name: 'eve', by: 'alice' }, 'r1')),
      ],
      s,
    );
    expect(notices(conv(s, 'dev'))).toContain('you invited eve to #dev');
    expect(notices(conv(s, 'lobby'))).not.toContain('you invited eve to #dev');
  });
});

const SGR = /\x1b\[[0-9;]*m/g;
const plain = (frame: string | undefined) => (frame ?? '').replace(SGR, '');
const apps: ReturnType<typeof render>[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.unmount();
});

async function frameWhere(r: ReturnType<typeof render>, check: (frame: string) => boolean, what: string) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const frame = plain(r.lastFrame());
    if (check(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`no ${what} in:\n${frame}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
const has = (text: string) => (frame: string) => frame.includes(text);

function mount(columns: number, rows = 16) {
  const conn = new FakeConnection();
  const r = render(<App connection={conn} nick="alice" size={{ columns, rows }} />);
  apps.push(r);
  conn.status({ state: 'connected' });
  return { r, conn };
}

const devJoined = (topic?: string) =>
  ev('joined', {
    room_id: 'dev',
    room_name: 'dev',
    members: ['alice', 'bob', 'carol', 'zed'],
    last_seq: 0,
    roles: { carol: 'owner', bob: 'voice' },
    modes: { ...modes, topic_locked: true },
    ...(topic ? { topic: { text: topic, set_by: 'carol', set_ts: NOW } } : {}),
  });

describe('the screen', () => {
  it('shows the room topic on the top row, cut by cells with … when too long', async () => {
    const { r, conn } = mount(60);
    const long = `漢字 release plan: ${'x'.repeat(80)} end`;
    conn.emit(welcome('alice'), devJoined(long));
    const frame = await frameWhere(r, has('#dev (+t): 漢字 release plan'), 'the topic line');
    const rows = frame.split('\n');
    expect(rows[0]).toMatch(/^#dev \(\+t\): 漢字 release plan: x+…$/);
    expect(cellWidth(rows[0]!)).toBe(60);
    expect(frame).not.toContain(' end');
    // The layout holds: the status bar and the prompt are on the last two rows still.
    expect(rows).toHaveLength(16);
    expect(rows.at(-1)).toMatch(/^#dev>/);
    // A new topic replaces it; clearing it removes the line.
    conn.emit(ev('message', msg('dev', 1, 'carol', 'ship friday', { kind: 'topic' })));
    await frameWhere(r, (f) => f.split('\n')[0] === '#dev (+t): ship friday', 'the new topic');
    conn.emit(ev('message', msg('dev', 2, 'carol', '', { kind: 'topic' })));
    await frameWhere(r, (f) => !f.split('\n')[0]!.startsWith('#dev (+t)'), 'no topic line');
  });

  it('draws the nick list from 120 columns, and Alt+N and /nicklist toggle it', async () => {
    const { r, conn } = mount(130);
    conn.emit(welcome('alice'), devJoined());
    const nickColumn = (f: string) =>
      f
        .split('\n')
        .map((row) => row.split('│')[2]?.trim())
        .filter((x): x is string => x !== undefined && x !== '');
    let frame = await frameWhere(r, (f) => nickColumn(f).length === 4, 'the nick list');
    expect(nickColumn(frame)).toEqual(['@carol', '+bob', 'alice', 'zed']);
    conn.emit(ev('user_joined', { room_id: 'dev', user_name: 'dan' }));
    conn.emit(ev('role_changed', { room_id: 'dev', user_name: 'zed', role: 'operator', by: 'carol' }));
    frame = await frameWhere(r, (f) => nickColumn(f).length === 5, 'dan in the nick list');
    expect(nickColumn(frame)).toEqual(['@carol', '@zed', '+bob', 'alice', 'dan']);
    r.stdin.write('\x1bn');
    await frameWhere(r, (f) => nickColumn(f).length === 0, 'the nick list hidden by Alt+N');
    r.stdin.write('/nicklist');
    r.stdin.write('\r');
    frame = await frameWhere(r, (f) => nickColumn(f).length === 5, 'the nick list back by /nicklist');
    expect(frame).toContain('nick list on');
  });

  it('has no nick list below 120 columns, nor in a DM', async () => {
    const { r, conn } = mount(119);
    conn.emit(welcome('alice'), devJoined());
    const frame = await frameWhere(r, has('#dev (4 users)'), 'the room');
    expect(frame).not.toContain('@carol');
    const wide = mount(120);
    wide.conn.emit(
      welcome('alice'),
      devJoined(),
      ev('dm', { id: 'd1', from: 'bob', to: 'alice', message: 'hi', ts: NOW }),
    );
    await frameWhere(wide.r, has('@carol'), 'the nick list');
    wide.r.stdin.write('\x1b2');
    const dm = await frameWhere(wide.r, has('@bob>'), 'the DM');
    expect(dm).not.toContain('@carol');
  });

  it('/help lists the moderation commands and the nick list', async () => {
    const { r, conn } = mount(160, 80);
    conn.emit(welcome('alice'), devJoined());
    await frameWhere(r, has('#dev>'), 'the room');
    r.stdin.write('/help');
    r.stdin.write('\r');
    const frame = await frameWhere(r, has('Alt+N nick list on/off'), 'the help');
    for (const command of [
      '/topic',
      '/op',
      '/deop',
      '/voice',
      '/devoice',
      '/kick',
      '/ban',
      '/unban',
      '/invite',
      '/mode',
      '/kill',
      '/nicklist',
    ])
      expect(frame).toContain(command);
  });

  it('a moderation command in a DM says it needs a room, not /users', async () => {
    const { r, conn } = mount(120);
    conn.emit(
      welcome('alice'),
      devJoined(),
      ev('dm', { id: 'd1', from: 'bob', to: 'alice', message: 'hi', ts: NOW }),
    );
    await frameWhere(r, has('@carol'), 'the nick list');
    r.stdin.write('\x1b2');
    await frameWhere(r, has('@bob>'), 'the DM');
    r.stdin.write('/topic');
    r.stdin.write('\r');
    const frame = await frameWhere(r, has('/topic #room'), 'the refusal');
    expect(frame).not.toContain('/users needs a room');
  });
});
