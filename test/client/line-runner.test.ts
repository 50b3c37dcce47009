import { describe, expect, it } from 'vitest';
import { createController } from '../../src/client/tui/controller.js';
import { initialState } from '../../src/client/state/reducer.js';
import { createStore } from '../../src/client/state/state-store.js';
import { screenLayout } from '../../src/client/tui/layout/screen.js';
import { scrollOffset } from '../../src/client/tui/layout/viewport.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';

/** alice in lobby and dev, with a controller wired to a fake connection; no terminal. */
/** alice in lobby and dev; `lastSeq` is what each room's `joined` says it holds (0: empty). */
function setup(lastSeq: { lobby?: number; dev?: number } = {}) {
  const conn = new FakeConnection();
  const store = createStore(initialState(conn.url, 'alice'));
  let quits = 0;
  const controller = createController({
    store,
    connection: conn,
    layout: () => screenLayout(100, 24, 1),
    quit: () => quits++,
    now: () => 0,
  });
  const emit = (...events: ServerMessage[]) =>
    events.forEach((event) => controller.signal({ kind: 'event', event }));
  emit(
    welcome('alice'),
    joined('lobby', ['alice', 'bob'], lastSeq.lobby ?? 0),
    joined('dev', ['alice'], lastSeq.dev ?? 0),
  );
  const enter = (line: string) => {
    controller.intent({ kind: 'insert', text: line });
    controller.intent({ kind: 'submit' });
  };
  const lastNotice = () => {
    const s = store.getState();
    const entries = s.current ? s.conversations[s.current]!.entries : s.system;
    const last = entries.at(-1);
    return last?.kind === 'notice' ? `${last.tone}: ${last.text}` : undefined;
  };
  return { conn, store, controller, emit, enter, lastNotice, quits: () => quits };
}

describe('slash commands', () => {
  it.each([
    ['/join has#bad', 'error: bad room name "has#bad": use 1-64 letters, digits, "_", "-" or "."'],
    ['/leave nowhere', 'error: you are not in #nowhere'],
    [
      '/msg b@d!\u200b hi',
      'error: bad nick "b@d!\u200b": a nick cannot contain spaces, control, format or invisible characters',
    ],
    ['/nick', 'error: /nick needs exactly one nick: /nick <name>'],
    ['/help join', 'info: /join <room>  join a room (created if it does not exist) and switch to it'],
  ])('%s says what is wrong', (line, expected) => {
    const t = setup();
    t.enter(line);
    expect(t.lastNotice()).toBe(expected);
    expect(t.conn.calls).toEqual([]);
  });

  it('/join of a room already joined just switches to it', () => {
    const t = setup();
    t.enter('/join dev');
    expect(t.store.getState().current).toBe('dev');
    expect(t.conn.calls).toEqual([]);
  });

  it('a line typed right after /join goes to the new room, not the one left', () => {
    const t = setup();
    t.enter('/join ops');
    t.enter('first in ops');
    expect(t.store.getState().current).toBe('ops');
    expect(t.conn.calls).toEqual([
      { op: 'join', room: 'ops' },
      { op: 'message', room: 'ops', text: 'first in ops', id: 'c0' },
    ]);
    expect(t.store.getState().conversations.lobby!.pending).toEqual([]);
  });

  it('a refused join is tried again by /join; lines typed into it meanwhile are not sent', () => {
    const t = setup();
    t.enter('/join ops');
    t.controller.signal({
      kind: 'join_failed',
      roomId: 'ops',
      code: 'too_many_rooms',
      message: 'leave one first',
    });
    t.enter('anyone?');
    expect(t.lastNotice()).toBe('error: not sent: you are not in #ops (/join ops tries again)');
    t.enter('/join ops');
    expect(t.conn.calls).toEqual([
      { op: 'join', room: 'ops' },
      { op: 'join', room: 'ops' },
    ]);
    expect(t.store.getState().conversations.ops!.joinRequest).toBe('pending');
  });

  it('/leave of a DM closes it without telling the server', () => {
    const t = setup();
    t.enter('/msg bob hi');
    expect(t.store.getState().current).toBe('@bob');
    t.enter('/leave');
    expect(t.store.getState().order).toEqual(['lobby', 'dev']);
    expect(t.conn.calls.filter((c) => c.op === 'leave')).toEqual([]);
  });

  it('/users, /rooms and /register go to the server; /register stays out of the history', () => {
    const t = setup();
    t.enter('/users');
    t.enter('/rooms');
    t.enter('/register sekrit-password');
    expect(t.conn.sent('users')).toEqual([{ type: 'users', payload: { room_id: 'lobby' } }]);
    expect(t.conn.sent('rooms')).toHaveLength(1);
    expect(t.conn.sent('register')).toEqual([{ type: 'register', payload: { password: 'sekrit-password' } }]);
    expect(t.store.getState().input.history).toEqual(['/users', '/rooms']);
  });

  it('a DM or command while offline says so; a room message waits for the reconnect', () => {
    const t = setup();
    t.conn.online = false;
    t.enter('/rooms');
    expect(t.lastNotice()).toBe('error: not connected to the server; try again once reconnected');
    t.enter('queued');
    expect(t.conn.calls.at(-1)).toMatchObject({ op: 'message', room: 'lobby', text: 'queued' });
    expect(t.store.getState().conversations.lobby!.pending).toHaveLength(1);
  });

  it('text with no room open asks to join one', () => {
    const t = setup();
    t.enter('/leave lobby');
    t.enter('/leave dev');
    t.enter('hello?');
    expect(t.lastNotice()).toBe('error: you are not in a room: /join <room> first');
  });

  it('/quit quits', () => {
    const t = setup();
    t.enter('/quit');
    expect(t.quits()).toBe(1);
  });
});

describe('paging', () => {
  /**
   * lobby holds seq 301..400 with older history on the server; `answer` replies to the history
   * requests made so far with the 100 messages before each. Returns how far each PgUp scrolled.
   */
  function pagingRoom() {
    const t = setup();
    const { paneWidth, paneHeight } = screenLayout(100, 24, 1);
    const page = (from: number) => Array.from({ length: 100 }, (_, i) => msg('lobby', from + i));
    t.emit(ev('history', { room_id: 'lobby', messages: page(301), has_more: true }));
    let answered = 0;
    const answer = () => {
      for (const req of t.conn.sent('history').slice(answered)) {
        const before = (req.payload as { before_seq: number }).before_seq;
        t.emit(ev('history', { room_id: 'lobby', messages: page(before - 100), has_more: before - 100 > 1 }));
        answered++;
      }
    };
    const offset = () => {
      const lobby = t.store.getState().conversations.lobby!;
      return scrollOffset(lobby, paneWidth, lobby.scroll, 'alice');
    };
    return { t, answer, offset, step: paneHeight - 2 };
  }

  it('PgUp moves a whole page every time, the older page fetched before the top is reached', () => {
    const { t, answer, offset, step } = pagingRoom();
    const moves: number[] = [];
    for (let i = 0; i < 15; i++) {
      const before = offset();
      t.controller.intent({ kind: 'page_up' });
      answer();
      moves.push(offset() - before);
    }
    expect(t.conn.sent('history').length).toBeGreaterThanOrEqual(2);
    expect(moves).toEqual(Array.from({ length: 15 }, () => step));
  });

  it('a PgUp that hit the top before the older page came finishes its page when it comes', () => {
    const { t, answer, offset, step } = pagingRoom();
    // A slow server: each page comes only after the user pressed PgUp again.
    const moves: number[] = [];
    let before = offset();
    for (let i = 0; i < 15; i++) {
      t.controller.intent({ kind: 'page_up' });
      const hitTop = t.store.getState().conversations.lobby!.loadingOlder && offset() - before < step;
      if (hitTop) answer();
      moves.push(offset() - before);
      before = offset();
    }
    expect(moves).toEqual(Array.from({ length: 15 }, () => step));
  });

  it('asks for one older page at the top, not again while it loads', () => {
    const t = setup();
    t.emit(
      ev('history', {
        room_id: 'lobby',
        messages: Array.from({ length: 10 }, (_, i) => msg('lobby', i + 91)),
        has_more: true,
      }),
    );
    t.controller.intent({ kind: 'page_up' });
    t.controller.intent({ kind: 'page_up' });
    expect(t.conn.sent('history')).toEqual([
      { type: 'history', payload: { room_id: 'lobby', before_seq: 91, limit: 100 } },
    ]);
  });

  it('a room on screen holding less than a page (a since_seq rejoin after a restart) gets the page before it', () => {
    const t = setup({ lobby: 42 });
    // lobby is on screen; the replay brought back only the two messages missed while away.
    t.emit(
      ev('history', {
        room_id: 'lobby',
        messages: [msg('lobby', 41), msg('lobby', 42)],
        has_more: false,
        recovered: true,
      }),
    );
    expect(t.conn.sent('history')).toEqual([
      { type: 'history', payload: { room_id: 'lobby', before_seq: 41, limit: 100 } },
    ]);
    // A full page answers it: nothing more is asked.
    t.emit(
      ev('history', {
        room_id: 'lobby',
        messages: Array.from({ length: 40 }, (_, i) => msg('lobby', i + 1)),
        has_more: false,
      }),
    );
    expect(t.conn.sent('history')).toHaveLength(1);
  });

  it('a short room whose history came while another was on screen is filled when switched to', () => {
    const t = setup({ dev: 7 });
    t.emit(ev('history', { room_id: 'dev', messages: [msg('dev', 7)], has_more: false, recovered: true }));
    expect(t.conn.sent('history')).toEqual([]);
    t.controller.intent({ kind: 'next_room' });
    expect(t.store.getState().current).toBe('dev');
    expect(t.conn.sent('history')).toEqual([
      { type: 'history', payload: { room_id: 'dev', before_seq: 7, limit: 100 } },
    ]);
  });

  it('/msg and lines typed in a DM show as sending under their ref; offline they are refused', () => {
    const t = setup();
    t.enter('/msg bob hi');
    t.enter('still there?');
    const pending = () => t.store.getState().conversations['@bob']!.pending;
    expect(t.conn.sent('dm')).toEqual([
      { type: 'dm', payload: { to: 'bob', message: 'hi' } },
      { type: 'dm', payload: { to: 'bob', message: 'still there?' } },
    ]);
    expect(pending().map((p) => [p.clientMsgId, p.text])).toEqual([
      ['r0', 'hi'],
      ['r1', 'still there?'],
    ]);
    t.conn.online = false;
    t.enter('offline now');
    expect(pending()).toHaveLength(2);
    expect(t.lastNotice()).toBe('error: not connected to the server; try again once reconnected');
  });

  it('a DM never asks for history', () => {
    const t = setup();
    t.enter('/msg bob hi');
    t.emit(ev('dm', { id: 'd', ts: 0, from: 'alice', to: 'bob', message: 'hi' }));
    t.controller.intent({ kind: 'page_up' });
    expect(t.conn.sent('history')).toEqual([]);
  });
});
