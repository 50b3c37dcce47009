/**
 * Issue 15 (the client as a daily driver), the pure parts: reducer, commands through the
 * controller, layout helpers. Rendering is covered in daily-driver-app.test.tsx and in tmux by
 * test/e2e/tui-activity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseClientLine } from '../../src/client/tui/tui-commands.js';
import { createController } from '../../src/client/tui/controller.js';
import type { Action } from '../../src/client/state/actions.js';
import { hotlist, hotItemText } from '../../src/client/state/hotlist.js';
import { mentions } from '../../src/client/state/mention.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState, Conversation, Entry } from '../../src/client/state/types.js';
import { createStore } from '../../src/client/state/state-store.js';
import { alertBytes } from '../../src/client/tui/hooks/use-terminal-alerts.js';
import { formatDay } from '../../src/client/tui/layout/decorations.js';
import { screenLayout } from '../../src/client/tui/layout/screen.js';
import { sidebarWindow } from '../../src/client/tui/layout/sidebar-window.js';
import { visibleLines } from '../../src/client/tui/layout/viewport.js';
import {
  fitNick,
  nickColor,
  nickSegment,
  PALETTE_256,
  setNickPalette,
} from '../../src/client/tui/nick-color.js';
import { parseLine } from '../../src/protocol/commands.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

const NOW = 1_700_000_100_000;
const server = (event: ServerMessage, now = NOW): Action => ({ type: 'server', event, now });
const run = (actions: Action[], state = initialState('ws://test', 'alice')): ChatState =>
  actions.reduce(reducer, state);
const conv = (s: ChatState, id: string): Conversation => s.conversations[id]!;
const texts = (c: Conversation) =>
  c.entries.map((e) => (e.kind === 'message' ? `${e.nick}:${e.text}` : `* ${e.text}`));

/** alice is in lobby (current) and dev. */
const twoRooms = () =>
  run([
    server(welcome('alice')),
    server(joined('lobby', ['alice', 'bob'])),
    server(joined('dev', ['alice', 'carol'])),
  ]);

/** alice in 15 rooms r1..r15, r1 current. */
function fifteenRooms(): ChatState {
  const actions: Action[] = [server(welcome('alice'))];
  for (let i = 1; i <= 15; i++) actions.push(server(joined(`r${i}`, ['alice', 'bob'])));
  return run(actions);
}

/** The controller over a store and a fake connection, no terminal. */
function controlled(state: ChatState) {
  const conn = new FakeConnection();
  const store = createStore(state);
  const controller = createController({
    store,
    connection: conn,
    layout: () => screenLayout(100, 24, 1),
    quit: () => {},
    now: () => NOW,
  });
  const enter = (line: string) => {
    controller.intent({ kind: 'insert', text: line });
    controller.intent({ kind: 'submit' });
  };
  const lastNotice = (id?: string) => {
    const s = store.getState();
    const c = s.conversations[id ?? s.current!]!;
    const last = c.entries.at(-1);
    return last?.kind === 'notice' ? last.text : undefined;
  };
  return { conn, store, controller, enter, lastNotice };
}

describe('lines typed before the server is ready (item 3)', () => {
  it('wait, say so, and go out in the order typed once welcomed and in a room', () => {
    const t = controlled(initialState('ws://test', 'alice'));
    t.conn.online = false;
    t.enter('early bird');
    t.enter('/msg bob psst');
    t.enter('/help quit');
    const system = () => t.store.getState().system.map((e) => (e.kind === 'notice' ? e.text : ''));
    // Nothing reached the connection, nothing was refused, and the screen says what waits.
    expect(t.conn.calls).toEqual([]);
    expect(system().filter((l) => /not connected|not in a room/.test(l))).toEqual([]);
    expect(system()).toContain('waiting for the server: 2 lines queued (sent in order once connected)');
    // Queued behind the others, even though /help alone would run at once.
    expect(system().at(-1)).toBe('waiting for the server: 3 lines queued (sent in order once connected)');
    expect(t.store.getState().input.history).toEqual(['early bird', '/msg bob psst', '/help quit']);

    t.conn.online = true;
    t.controller.signal({ kind: 'event', event: welcome('alice') });
    // Welcomed, but no room yet: the chat line (and what follows it) still waits.
    expect(t.conn.calls).toEqual([]);
    t.controller.signal({ kind: 'event', event: joined('lobby', ['alice', 'bob']) });
    expect(
      t.conn.calls.map((c) =>
        c.op === 'message' ? `${c.room}:${c.text}` : c.op === 'send' ? c.request.type : c.op,
      ),
    ).toEqual(['lobby:early bird', 'dm']);
    expect(t.conn.sent('dm')).toEqual([{ type: 'dm', payload: { to: 'bob', message: 'psst' } }]);
    expect(t.lastNotice('@bob')).toBe('/quit [reason]  leave the chat; the others see the reason');
  });

  it('a command needing the server waits for welcome; /join and /quit never wait', () => {
    const t = controlled(initialState('ws://test', 'alice'));
    t.enter('/join dev');
    expect(t.conn.calls).toEqual([{ op: 'join', room: 'dev' }]);
    t.enter('/users');
    expect(t.conn.sent('users')).toEqual([]);
    t.controller.signal({ kind: 'event', event: welcome('alice') });
    expect(t.conn.sent('users')).toEqual([{ type: 'users', payload: { room_id: 'dev' } }]);
  });
});

describe('mentions (item 15)', () => {
  it.each([
    ['alice: hi', true],
    ['hi alice, how are you', true],
    ['@alice', true],
    ['ALICE.', true],
    ['alice-ish', false],
    ['the alice_bot said', false],
    ['malice', false],
    ['alice|away', false],
  ])('%s → %s', (text, expected) => {
    expect(mentions(text, 'alice')).toBe(expected);
  });
});

describe('replies go where the command was typed (item 4)', () => {
  it('/users dev typed in lobby answers in lobby, sorted', () => {
    const { conn, store, enter, lastNotice } = controlled(twoRooms());
    enter('/users dev');
    const ref = conn.calls.at(-1)!;
    expect(ref).toMatchObject({ op: 'send', request: { type: 'users', payload: { room_id: 'dev' } } });
    // The user switches to dev before the answer comes.
    store.dispatch({ type: 'select', id: 'dev' });
    const before = conv(store.getState(), 'dev').entries.length;
    store.dispatch(
      server(
        ev('users', { room_id: 'dev', users: ['carol', 'Bob', 'alice'] }, ref.op === 'send' ? ref.ref : ''),
      ),
    );
    expect(lastNotice('lobby')).toBe('3 in #dev: alice, Bob, carol');
    expect(conv(store.getState(), 'dev').entries.length).toBe(before);
  });

  it('an error answering a command goes where it was typed', () => {
    const { conn, store, enter, lastNotice } = controlled(twoRooms());
    enter('/nick bad');
    const call = conn.calls.at(-1)!;
    store.dispatch({ type: 'select', id: 'dev' });
    store.dispatch(
      server(
        ev(
          'error',
          { code: 'nick_taken', message: 'bad is online already' },
          call.op === 'send' ? call.ref : '',
        ),
      ),
    );
    expect(lastNotice('lobby')).toBe('bad is online already [nick_taken]');
  });
});

describe('/query and errors named as typed (item 7)', () => {
  it('/query bob opens the conversation and sends nothing', () => {
    const { conn, store, enter } = controlled(twoRooms());
    enter('/query bob');
    expect(store.getState().current).toBe('@bob');
    expect(conn.sent('dm')).toEqual([]);
    enter('/query bob hello there');
    expect(conn.sent('dm')).toEqual([{ type: 'dm', payload: { to: 'bob', message: 'hello there' } }]);
  });

  it.each([
    ['/dm bob', '/dm needs a nick and a message: /dm <nick> <text>'],
    ['/MSG', '/msg needs a nick and a message: /msg <nick> <text>'],
    ['/part a b', '/part takes at most one room: /part [room]'],
  ])('%s → %s', (line, message) => {
    expect(parseLine(line)).toEqual({ kind: 'error', message });
  });

  it.each([
    ['/query', '/query needs a nick: /query <nick> [text]'],
    ['/goto x', '/goto needs the number of a conversation: /goto <N>'],
  ])('%s → %s', (line, message) => {
    expect(parseClientLine(line)).toEqual({ kind: 'error', message });
  });
});

describe('own nick change (item 8)', () => {
  it('is announced once in the current room, and in each room once', () => {
    const s = run(
      [
        server(ev('nick_changed', { old_name: 'alice', user_name: 'alicia' })),
        server(ev('nick_changed', { room_id: 'lobby', old_name: 'alice', user_name: 'alicia' })),
        server(ev('nick_changed', { room_id: 'dev', old_name: 'alice', user_name: 'alicia' })),
      ],
      twoRooms(),
    );
    expect(s.nick).toBe('alicia');
    expect(texts(conv(s, 'lobby')).filter((t) => t.includes('known as'))).toEqual([
      '* you are now known as alicia',
    ]);
    expect(texts(conv(s, 'dev')).filter((t) => t.includes('known as'))).toEqual([
      '* you are now known as alicia',
    ]);
    expect(conv(s, 'lobby').members).toContain('alicia');
  });

  it('in a DM (no room copy lands there) it is said there', () => {
    const s = run(
      [
        { type: 'open_dm', nick: 'bob' },
        server(ev('nick_changed', { old_name: 'alice', user_name: 'alicia' })),
      ],
      twoRooms(),
    );
    expect(texts(conv(s, '@bob'))).toEqual(['* you are now known as alicia']);
  });
});

describe('registered nick prompt (item 16)', () => {
  it('says what to type, not protocol words', () => {
    const s = run(
      [
        {
          type: 'nick_rejected',
          nick: 'alice',
          code: 'nick_registered',
          message: 'alice is registered; send hello {user_name, password}',
          now: NOW,
        },
      ],
      twoRooms(),
    );
    const last = conv(s, 'lobby').entries.at(-1)!;
    expect(last.kind === 'notice' && last.text).toBe(
      'alice is registered: type "alice <password>" and press Enter to sign in, or type another nick',
    );
  });
});

describe('hotlist and numbers (item 1)', () => {
  it('lists rooms with activity, mentions and DMs first', () => {
    let s = fifteenRooms();
    s = run(
      [
        server(ev('message', msg('r3', 1, 'bob', 'plain'))),
        server(ev('message', msg('r12', 1, 'bob', 'plain'))),
        server(ev('message', msg('r7', 1, 'bob', 'alice: look'))),
        server(ev('message', msg('r7', 2, 'bob', 'alice: here'))),
        server(ev('dm', { id: 'd1', ts: NOW, from: 'carol', to: 'alice', message: 'psst' })),
      ],
      s,
    );
    const hot = hotlist(s);
    expect(hot.map(hotItemText)).toEqual(['7(2!)', '16(1!)', '3', '12']);
    expect(hot[1]).toMatchObject({ dm: true });
  });

  it('Alt+J then two digits reaches room 12; a non-digit cancels and is typed', () => {
    const { store, controller } = controlled(fifteenRooms());
    controller.intent({ kind: 'jump_prefix' });
    controller.intent({ kind: 'insert', text: '1' });
    expect(store.getState().current).toBe('r1');
    controller.intent({ kind: 'insert', text: '2' });
    expect(store.getState().current).toBe('r12');
    controller.intent({ kind: 'jump_prefix' });
    controller.intent({ kind: 'insert', text: '0x' });
    expect(store.getState().jump).toBeNull();
    expect(store.getState().input.text).toBe('x');
    expect(store.getState().current).toBe('r12');
  });

  it('/window N and /goto N select by number, and say when there is none', () => {
    const { store, enter, lastNotice } = controlled(fifteenRooms());
    enter('/window 14');
    expect(store.getState().current).toBe('r14');
    enter('/goto 2');
    expect(store.getState().current).toBe('r2');
    enter('/goto 40');
    expect(lastNotice()).toBe('no conversation 40: there are 15');
  });

  it('the sidebar window keeps the current row and counts activity above and below', () => {
    const rows = Array.from({ length: 16 }, (_, i) => ({ active: i === 2 || i === 13, urgent: i === 13 }));
    const view = sidebarWindow(rows, 0, 8);
    expect(view.start).toBe(0);
    expect(view.above).toBeNull();
    expect(view.end).toBe(7);
    expect(view.below).toEqual({ hidden: 9, active: 1, urgent: true });
    const middle = sidebarWindow(rows, 9, 8);
    expect(middle.end - middle.start).toBe(6);
    expect(middle.start <= 9 && 9 < middle.end).toBe(true);
    expect(middle.above?.active).toBe(1);
    expect(middle.below?.urgent).toBe(true);
  });
});

describe('day-change lines (item 2) and the read marker', () => {
  const day = (y: number, m: number, d: number, h = 12) => new Date(y, m, d, h, 0).getTime();

  it('draws a local-day line above the first entry and between days', () => {
    let s = twoRooms();
    s = run(
      [
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [
              msg('lobby', 1, 'bob', 'monday', { ts: day(2026, 10, 23, 23) }),
              msg('lobby', 2, 'bob', 'tuesday early', { ts: day(2026, 10, 24, 1) }),
              msg('lobby', 3, 'bob', 'tuesday late', { ts: day(2026, 10, 24, 22) }),
            ],
            has_more: false,
          }),
        ),
      ],
      s,
    );
    const rows = visibleLines(conv(s, 'lobby'), 60, 20, 'alice').lines.map((l) =>
      l.segments.map((x) => x.text).join(''),
    );
    expect(rows.filter((r) => r.startsWith('-- ') && /20\d\d --$/.test(r))).toEqual([
      '-- Monday 23 November 2026 --',
      '-- Tuesday 24 November 2026 --',
    ]);
    expect(rows.indexOf('-- Tuesday 24 November 2026 --')).toBe(
      rows.findIndex((r) => r.includes('tuesday early')) - 1,
    );
    expect(formatDay(day(2026, 10, 24))).toBe('Tuesday 24 November 2026');
  });

  it('puts -- unread -- above the first message that came while away; Alt+U drops it', () => {
    let s = run([server(ev('message', msg('dev', 1, 'carol', 'seen')))], twoRooms());
    s = run(
      [
        { type: 'select', id: 'dev' },
        { type: 'select', id: 'lobby' },
      ],
      s,
    );
    s = run([server(ev('message', msg('dev', 2, 'carol', 'new one'))), { type: 'select', id: 'dev' }], s);
    const rows = () =>
      visibleLines(conv(s, 'dev'), 60, 20, 'alice').lines.map((l) => l.segments.map((x) => x.text).join(''));
    const r = rows();
    expect(r[r.indexOf('-- unread --') + 1]).toContain('new one');
    expect(r.indexOf('-- unread --')).toBeGreaterThan(r.findIndex((x) => x.includes('seen')));
    s = reducer(s, { type: 'mark_read', id: 'dev' });
    expect(rows()).not.toContain('-- unread --');
  });

  it('/clear empties the pane', () => {
    const { store, enter } = controlled(run([server(ev('message', msg('lobby', 1)))], twoRooms()));
    enter('/clear');
    expect(conv(store.getState(), 'lobby').entries).toEqual([]);
    expect(conv(store.getState(), 'lobby').newestSeq).toBe(1);
  });
});

describe('smart filter and /ignore', () => {
  it('hides joins and leaves of people who have not spoken in 10 minutes; Alt+= shows them', () => {
    let s = twoRooms();
    s = run(
      [
        server(ev('message', msg('lobby', 1, 'bob', 'hi', { ts: NOW - 60_000 }))),
        server(ev('user_joined', { room_id: 'lobby', user_name: 'dan' })),
        server(ev('user_left', { room_id: 'lobby', user_name: 'bob', reason: 'quit' })),
        server(ev('user_left', { room_id: 'lobby', user_name: 'erin', reason: 'quit' }), NOW + 700_000),
      ],
      s,
    );
    const shown = (state: ChatState) =>
      visibleLines(conv(state, 'lobby'), 60, 20, 'alice', { showQuiet: state.showQuiet })
        .lines.map((l) => l.segments.map((x) => x.text).join(''))
        .filter((r) => /joined|left/.test(r));
    expect(shown(s).map((r) => r.slice(6))).toEqual(['-- bob left']);
    const all = reducer(s, { type: 'toggle_quiet' });
    expect(shown(all).map((r) => r.slice(6))).toEqual(['-- dan joined', '-- bob left', '-- erin left']);
  });

  it('an ignored nick is neither shown, counted, nor able to open a DM; /unignore restores', () => {
    const { store, enter, lastNotice } = controlled(twoRooms());
    enter('/ignore carol');
    expect(store.getState().ignores).toEqual(['carol']);
    store.dispatch(server(ev('message', msg('dev', 1, 'Carol', 'alice: spam'))));
    store.dispatch(server(ev('dm', { id: 'd1', ts: NOW, from: 'carol', to: 'alice', message: 'spam' })));
    const s = store.getState();
    expect(conv(s, 'dev').unread).toBe(0);
    expect(conv(s, 'dev').newestSeq).toBe(1);
    expect(s.conversations['@carol']).toBeUndefined();
    expect(s.alerts).toBe(0);
    const rows = visibleLines(conv(s, 'dev'), 60, 20, 'alice').lines.map((l) =>
      l.segments.map((x) => x.text).join(''),
    );
    expect(rows.some((r) => r.includes('spam'))).toBe(false);
    enter('/unignore carol');
    expect(lastNotice()).toBe('carol is no longer ignored');
    expect(store.getState().ignores).toEqual([]);
  });
});

describe('bell and title (item 10)', () => {
  it('counts live mentions and DMs, not plain messages or history', () => {
    let s = twoRooms();
    s = run([server(ev('message', msg('dev', 1, 'carol', 'plain')))], s);
    expect(s.alerts).toBe(0);
    s = run([server(ev('message', msg('dev', 2, 'carol', 'alice: ping')))], s);
    expect(s.alerts).toBe(1);
    s = run([server(ev('dm', { id: 'd1', ts: NOW, from: 'bob', to: 'alice', message: 'hey' }))], s);
    expect(s.alerts).toBe(2);
    s = run(
      [
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [msg('lobby', 1, 'bob', 'alice: old')],
            has_more: false,
          }),
        ),
      ],
      s,
    );
    expect(s.alerts).toBe(2);
  });

  it('writes BEL when alerts grow (unless the bell is off) and the mention count in the title', () => {
    expect(alertBytes(null, { alerts: 0, mentions: 0 }, true)).toBe('\x1b]2;chat\x07');
    expect(alertBytes({ alerts: 0, mentions: 0 }, { alerts: 1, mentions: 1 }, true)).toBe(
      '\x07\x1b]2;(1) chat\x07',
    );
    expect(alertBytes({ alerts: 0, mentions: 0 }, { alerts: 1, mentions: 1 }, false)).toBe(
      '\x1b]2;(1) chat\x07',
    );
    expect(alertBytes({ alerts: 1, mentions: 1 }, { alerts: 1, mentions: 1 }, true)).toBe('');
  });
});

describe('nick colours and widths (items 13, 14)', () => {
  it('the 256-colour palette has no red, yellow or magenta, and three nicks rarely collide', () => {
    const meaning = new Set([1, 3, 5, 9, 11, 13, 196, 226, 201, 160, 220, 200, 214, 208, 202, 166]);
    expect(PALETTE_256.length).toBeGreaterThanOrEqual(30);
    for (const c of PALETTE_256) expect(meaning.has(Number(/\d+/.exec(c)![0]))).toBe(false);
    setNickPalette(256);
    const colours = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'].map(nickColor);
    expect(new Set(colours).size).toBeGreaterThanOrEqual(7);
    setNickPalette(16);
    for (const n of ['alice', 'bob', 'carol', 'x', 'yy', 'zzz'])
      expect(['yellow', 'red', 'magenta', 'yellowBright', 'redBright', 'magentaBright']).not.toContain(
        nickColor(n),
      );
  });

  it('your own nick has one fixed colour; long nicks are cut with …', () => {
    expect(nickSegment('alice', true)).toEqual({ text: 'alice', bold: true });
    expect(fitNick('a_very_long_nickname_of_32_chars')).toBe('a_very_long…');
    expect(fitNick('twelve_cells')).toBe('twelve_cells');
    const entry: Entry = {
      kind: 'message',
      key: 'm1',
      seq: 1,
      ts: NOW,
      nick: 'a_very_long_nickname_of_32_chars',
      text: 'hi',
      self: false,
      mention: false,
    };
    const c = { ...conv(twoRooms(), 'lobby'), entries: [entry] };
    const row = visibleLines(c, 60, 5, 'alice').lines.at(-1)!;
    expect(row.segments.map((x) => x.text).join('')).toMatch(/^\d\d:\d\d <a_very_long…> hi$/);
  });
});
