import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/state/actions.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState, Conversation } from '../../src/client/state/types.js';
import { App } from '../../src/client/tui/App.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

/** Issue 14 in the terminal client: actions, away, quits, whois and rooms without case. */

const NOW = 1_700_000_100_000;
const server = (event: ServerMessage): Action => ({ type: 'server', event, now: NOW });
const run = (actions: Action[], state = initialState('ws://test', 'alice')): ChatState =>
  actions.reduce(reducer, state);
const conv = (s: ChatState, id: string): Conversation => s.conversations[id]!;
const notices = (c: Conversation): string[] =>
  c.entries.flatMap((e) => (e.kind === 'notice' ? [e.text] : []));
const inLobby = (): ChatState => run([server(welcome('alice')), server(joined('lobby', ['alice', 'bob']))]);

describe('the reducer', () => {
  it('marks actions in rooms and DMs', () => {
    const s = run(
      [
        server(ev('message', msg('lobby', 1, 'bob', 'waves', { kind: 'action' }))),
        server(ev('dm', { id: 'd1', ts: NOW, from: 'bob', to: 'alice', message: 'pokes', kind: 'action' })),
      ],
      inLobby(),
    );
    expect(conv(s, 'lobby').entries.at(-1)).toMatchObject({
      kind: 'message',
      text: 'waves',
      msgKind: 'action',
    });
    expect(conv(s, '@bob').entries.at(-1)).toMatchObject({ text: 'pokes', msgKind: 'action' });
  });

  it('says a quit with its reason, and removes the member', () => {
    const s = run(
      [server(ev('user_left', { room_id: 'lobby', user_name: 'bob', reason: 'see you', quit: true }))],
      inLobby(),
    );
    expect(notices(conv(s, 'lobby'))).toContain('bob quit (see you)');
    expect(conv(s, 'lobby').members).toEqual(['alice']);
  });

  it('shows away notices in the room, our own state, and a DM partner being away', () => {
    let s = run(
      [
        server(ev('user_away', { room_id: 'lobby', user_name: 'bob', message: 'lunch' })),
        server(ev('user_away', { room_id: 'lobby', user_name: 'bob' })),
        server(ev('user_away', { user_name: 'alice', message: 'out' })),
      ],
      inLobby(),
    );
    expect(notices(conv(s, 'lobby'))).toEqual(
      expect.arrayContaining(['bob is away: lunch', 'bob is back', 'you are away: out']),
    );
    s = run(
      [{ type: 'open_dm', nick: 'bob' }, server(ev('user_away', { user_name: 'bob', message: 'fishing' }))],
      s,
    );
    expect(notices(conv(s, '@bob'))).toContain('bob is away: fishing');
  });

  it('lists whois and marks away users in /users', () => {
    const s = run(
      [
        server(
          ev('whois', {
            user_name: 'bob',
            registered: true,
            away: 'lunch',
            idle_ms: 65_000,
            connected_ts: Date.UTC(2026, 0, 1, 9, 30),
            rooms: ['lobby'],
          }),
        ),
        server(
          ev('users', {
            room_id: 'lobby',
            users: ['alice', 'bob'],
            members: [{ user_name: 'alice' }, { user_name: 'bob', away: 'lunch' }],
          }),
        ),
      ],
      inLobby(),
    );
    expect(notices(conv(s, 'lobby'))).toEqual(
      expect.arrayContaining([
        'bob: registered nick',
        'bob: away: lunch',
        'bob: idle 1m 5s, connected since 2026-01-01 09:30 UTC',
        'bob: in #lobby (rooms you share)',
        '2 in #lobby: alice, bob (away)',
      ]),
    );
  });

  it('a room asked for as DEV and joined as dev becomes #dev, in place', () => {
    const s = run([{ type: 'join_requested', roomId: 'DEV' }, server(joined('dev', ['alice']))], inLobby());
    expect(s.order).toEqual(['lobby', 'dev']);
    expect(s.current).toBe('dev');
    expect(conv(s, 'dev')).toMatchObject({ id: 'dev', joined: true });
  });
});

const SGR = /\x1b\[[0-9;]*m/g;
const plain = (frame: string | undefined) => (frame ?? '').replace(SGR, '');
const apps: ReturnType<typeof render>[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.unmount();
});

async function waitForFrame(r: ReturnType<typeof render>, check: (f: string) => boolean): Promise<string> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const frame = plain(r.lastFrame());
    if (check(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`timed out; last frame:\n${frame}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function typeLine(r: ReturnType<typeof render>, line: string): Promise<void> {
  for (const key of [line, '\r']) {
    const before = r.frames.length;
    r.stdin.write(key);
    await waitForFrame(r, () => r.frames.length > before);
  }
}

describe('the TUI', () => {
  async function setup(onQuit?: () => void) {
    const conn = new FakeConnection();
    const r = render(
      <App connection={conn} nick="alice" size={{ columns: 100, rows: 24 }} onQuit={onQuit} />,
    );
    apps.push(r);
    conn.status({ state: 'connected' });
    conn.emit(welcome('alice'), joined('lobby', ['alice', 'bob']));
    await waitForFrame(r, (f) => f.includes('#lobby>'));
    return { conn, r };
  }

  it('draws an action as `* bob waves` and a quit with its reason', async () => {
    const { conn, r } = await setup();
    // Just now: a quit of somebody who spoke lately is not hidden by the smart filter.
    conn.emit(ev('message', msg('lobby', 1, 'bob', 'waves', { kind: 'action', ts: Date.now() })));
    const frame = await waitForFrame(r, (f) => f.includes('* bob waves'));
    expect(frame).not.toContain('<bob> waves');
    conn.emit(
      ev('user_left', { room_id: 'lobby', user_name: 'bob', reason: 'see you tomorrow', quit: true }),
    );
    await waitForFrame(r, (f) => f.includes('bob quit (see you tomorrow)'));
  });

  it('/me sends an action, /away and /whois their requests, /quit its reason', async () => {
    let quit = false;
    const { conn, r } = await setup(() => (quit = true));
    await typeLine(r, '/me waves');
    expect(conn.calls).toContainEqual(
      expect.objectContaining({ op: 'message', room: 'lobby', text: 'waves', kind: 'action' }),
    );
    // Drawn as an action while it waits for the server too.
    await waitForFrame(r, (f) => f.includes('* alice waves'));
    await typeLine(r, '/away lunch');
    await typeLine(r, '/whois bob');
    const sent = conn.calls.flatMap((c) => (c.op === 'send' ? [c.request] : []));
    expect(sent).toEqual(
      expect.arrayContaining([
        { type: 'away', payload: { message: 'lunch' } },
        { type: 'whois', payload: { user_name: 'bob' } },
      ]),
    );
    r.stdin.write('/quit see you tomorrow');
    r.stdin.write('\r');
    await waitForFrame(r, () => quit);
    const after = conn.calls.flatMap((c) => (c.op === 'send' ? [c.request] : []));
    expect(after).toContainEqual({ type: 'quit', payload: { reason: 'see you tomorrow' } });
  });
});
