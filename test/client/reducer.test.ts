import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/state/actions.js';
import type { ServerMessage } from '../../src/protocol/events.js';
import { initialState, reducer } from '../../src/client/state/reducer.js';
import type { ChatState, Conversation } from '../../src/client/state/types.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';

const NOW = 1_700_000_100_000;
const server = (event: ServerMessage): Action => ({ type: 'server', event, now: NOW });

function run(actions: Action[], state = initialState('ws://test', 'alice')): ChatState {
  return actions.reduce(reducer, state);
}

/** alice is in lobby (current) and dev. */
function twoRooms(): ChatState {
  return run([
    server(welcome('alice')),
    server(joined('lobby', ['alice', 'bob'])),
    server(joined('dev', ['alice', 'carol'])),
  ]);
}

function conv(state: ChatState, id: string): Conversation {
  const c = state.conversations[id];
  if (!c) throw new Error(`no conversation ${id}`);
  return c;
}

const texts = (c: Conversation) =>
  c.entries.map((e) => (e.kind === 'message' ? `${e.nick}:${e.text}` : `* ${e.text}`));
const seqs = (c: Conversation) =>
  c.entries.flatMap((e) => (e.kind === 'message' && e.seq !== null ? [e.seq] : []));

describe('rooms and selection', () => {
  it('selects the first room joined and lists rooms before DMs in join order', () => {
    const s = run([
      server(welcome('alice')),
      server(joined('lobby')),
      { type: 'open_dm', nick: 'bob' },
      server(joined('dev')),
    ]);
    expect(s.order).toEqual(['lobby', 'dev', '@bob']);
    expect(s.current).toBe('@bob');
  });

  it.each([
    ['next from lobby', [{ type: 'select_relative', delta: 1 }], 'dev'],
    [
      'next wraps around',
      [
        { type: 'select_relative', delta: 1 },
        { type: 'select_relative', delta: 1 },
      ],
      'lobby',
    ],
    ['previous wraps around', [{ type: 'select_relative', delta: -1 }], 'dev'],
    ['jump to index 1', [{ type: 'select_index', index: 1 }], 'dev'],
    ['jump past the end stays', [{ type: 'select_index', index: 7 }], 'lobby'],
  ] as [string, Action[], string][])('%s', (_name, actions, expected) => {
    expect(run(actions, twoRooms()).current).toBe(expected);
  });

  it('switches to a room asked for by /join at once, pending until the server confirms it', () => {
    let s = run(
      [
        { type: 'open_dm', nick: 'bob' },
        { type: 'join_requested', roomId: 'ops' },
      ],
      twoRooms(),
    );
    expect(s.current).toBe('ops');
    expect(s.order).toEqual(['lobby', 'dev', 'ops', '@bob']);
    expect(conv(s, 'ops')).toMatchObject({ joined: false, joinRequest: 'pending' });
    s = reducer(s, server(joined('ops', ['alice', 'dan'])));
    expect(s.current).toBe('ops');
    expect(conv(s, 'ops')).toMatchObject({ joined: true, joinRequest: null, members: ['alice', 'dan'] });
    expect(s.knownRooms).toContain('ops');
  });

  it('a line typed into a pending room waits there, and is acknowledged after the join', () => {
    let s = run(
      [
        { type: 'join_requested', roomId: 'ops' },
        { type: 'message_pending', roomId: 'ops', clientMsgId: 'c1', text: 'first!', now: NOW },
      ],
      twoRooms(),
    );
    expect(conv(s, 'ops').pending.map((p) => p.text)).toEqual(['first!']);
    expect(conv(s, 'lobby').pending).toEqual([]);
    s = run(
      [
        server(joined('ops', ['alice'], 0)),
        server(ev('history', { room_id: 'ops', messages: [], has_more: false })),
        server(ev('message', msg('ops', 1, 'alice', 'first!', { client_msg_id: 'c1' }), 'c1')),
      ],
      s,
    );
    expect(conv(s, 'ops').pending).toEqual([]);
    expect(texts(conv(s, 'ops'))).toEqual(['alice:first!']);
  });

  it('the join confirmed after the user moved on does not pull them back', () => {
    let s = run(
      [
        { type: 'join_requested', roomId: 'ops' },
        { type: 'select', id: 'dev' },
      ],
      twoRooms(),
    );
    s = reducer(s, server(joined('ops')));
    expect(s.current).toBe('dev');
  });

  it('a refused join keeps the room on screen, says why and shows the waiting lines as not sent', () => {
    let s = run(
      [
        { type: 'join_requested', roomId: 'ops' },
        { type: 'message_pending', roomId: 'ops', clientMsgId: 'c1', text: 'hello?', now: NOW },
        { type: 'join_failed', roomId: 'ops', code: 'room_full', message: 'ops is \x1b[2Jfull', now: NOW },
      ],
      twoRooms(),
    );
    expect(s.current).toBe('ops');
    expect(conv(s, 'ops')).toMatchObject({ joined: false, joinRequest: 'failed', pending: [] });
    expect(texts(conv(s, 'ops'))).toEqual([
      '* cannot join #ops: ops is full [room_full]; /join ops tries again, /leave closes it',
      '* not sent: hello?',
    ]);
    // /join again asks anew.
    s = reducer(s, { type: 'select', id: 'lobby' });
    s = reducer(s, { type: 'join_requested', roomId: 'ops' });
    expect(s.current).toBe('ops');
    expect(conv(s, 'ops').joinRequest).toBe('pending');
  });

  it('a join refused for a room no longer listed is said in the current conversation', () => {
    const s = run(
      [{ type: 'join_failed', roomId: 'gone', code: 'too_many_rooms', message: 'leave one first', now: NOW }],
      twoRooms(),
    );
    expect(texts(conv(s, 'lobby')).at(-1)).toBe('* cannot join #gone: leave one first [too_many_rooms]');
  });

  it('closing the current room moves to its neighbour', () => {
    const s = run(
      [
        { type: 'select', id: 'dev' },
        { type: 'close', id: 'dev' },
      ],
      twoRooms(),
    );
    expect(s.order).toEqual(['lobby']);
    expect(s.current).toBe('lobby');
  });
});

describe('unread counts and mentions', () => {
  it.each([
    ['a message in another room is unread', msg('dev', 1, 'carol', 'hi all'), 'dev', 1, 0],
    ['a message naming us is a mention', msg('dev', 1, 'carol', 'ping alice: look'), 'dev', 1, 1],
    ['a nick inside a word is not a mention', msg('dev', 1, 'carol', 'malice aforethought'), 'dev', 1, 0],
    ['mentions ignore case', msg('dev', 1, 'carol', 'ALICE!'), 'dev', 1, 1],
    ['our own message is not unread', msg('dev', 1, 'alice', 'hello'), 'dev', 0, 0],
    ['the room on screen gets no unread', msg('lobby', 1, 'bob', 'alice hi'), 'lobby', 0, 0],
  ])('%s', (_name, message, room, unread, mentions) => {
    const s = run([server(ev('message', message))], twoRooms());
    expect(conv(s, room).unread).toBe(unread);
    expect(conv(s, room).mentions).toBe(mentions);
  });

  it('selecting a room marks it read', () => {
    const s = run([server(ev('message', msg('dev', 1))), { type: 'select', id: 'dev' }], twoRooms());
    expect(conv(s, 'dev').unread).toBe(0);
  });

  it('Alt+A goes to mentions first, then to plain activity', () => {
    let s = run([server(joined('ops')), { type: 'select', id: 'lobby' }], twoRooms());
    s = run(
      [
        server(ev('message', msg('dev', 1, 'carol', 'plain'))),
        server(ev('message', msg('ops', 1, 'dan', 'alice: look'))),
      ],
      s,
    );
    s = reducer(s, { type: 'select_activity' });
    expect(s.current).toBe('ops');
    s = reducer(s, { type: 'select_activity' });
    expect(s.current).toBe('dev');
    // Nothing unread left: back to the room you were in before (as WeeChat's Alt+A does).
    expect(reducer(s, { type: 'select_activity' }).current).toBe('ops');
  });

  it('a direct message opens a conversation that counts as a mention', () => {
    const s = run(
      [server(ev('dm', { id: 'd1', ts: 1, from: 'bob', to: 'alice', message: 'psst' }))],
      twoRooms(),
    );
    expect(s.order).toContain('@bob');
    expect(conv(s, '@bob').unread).toBe(1);
    expect(conv(s, '@bob').mentions).toBe(1);
    expect(s.current).toBe('lobby');
  });

  it('our own DM echo files under the recipient and is not unread', () => {
    const s = run(
      [
        { type: 'open_dm', nick: 'bob' },
        { type: 'select', id: 'lobby' },
        server(ev('dm', { id: 'd2', ts: 1, from: 'alice', to: 'Bob', message: 'hi' })),
      ],
      twoRooms(),
    );
    expect(texts(conv(s, '@bob'))).toEqual(['alice:hi']);
    expect(conv(s, '@bob').unread).toBe(0);
  });
});

describe('dedupe and ordering by seq', () => {
  it.each([
    ['a live duplicate', [[1, 2, 3], [3], [2]], [1, 2, 3]],
    [
      'a replay overlapping live traffic',
      [
        [1, 2],
        [2, 3, 4],
      ],
      [1, 2, 3, 4],
    ],
    [
      'an older page goes on top',
      [
        [50, 51],
        [48, 49],
      ],
      [48, 49, 50, 51],
    ],
    [
      'an older page overlapping what we hold',
      [
        [10, 11, 12],
        [8, 9, 10, 11],
      ],
      [8, 9, 10, 11, 12],
    ],
    ['an unsorted batch', [[3, 1, 2]], [1, 2, 3]],
  ] as [string, number[][], number[]][])(
    '%s shows each message once, in order',
    (_name, batches, expected) => {
      let s = twoRooms();
      for (const batch of batches)
        s = reducer(
          s,
          server(
            ev('history', { room_id: 'lobby', messages: batch.map((n) => msg('lobby', n)), has_more: false }),
          ),
        );
      expect(seqs(conv(s, 'lobby'))).toEqual(expected);
    },
  );

  it('a live message with a seq already held is dropped', () => {
    const s = run(
      [
        server(ev('message', msg('lobby', 1))),
        server(ev('message', msg('lobby', 1))),
        server(ev('message', msg('lobby', 2))),
      ],
      twoRooms(),
    );
    expect(seqs(conv(s, 'lobby'))).toEqual([1, 2]);
  });

  it('the acknowledged copy of our message replaces its pending line', () => {
    let s = run(
      [{ type: 'message_pending', roomId: 'lobby', clientMsgId: 'c1', text: 'hi', now: NOW }],
      twoRooms(),
    );
    expect(conv(s, 'lobby').pending).toHaveLength(1);
    s = reducer(s, server(ev('message', msg('lobby', 1, 'alice', 'hi', { client_msg_id: 'c1' }), 'c1')));
    expect(conv(s, 'lobby').pending).toHaveLength(0);
    expect(texts(conv(s, 'lobby'))).toEqual(['alice:hi']);
  });

  it('a refused message turns its pending line into a "not sent" line that says why', () => {
    let s = run(
      [{ type: 'message_pending', roomId: 'lobby', clientMsgId: 'c9', text: 'spam', now: NOW }],
      twoRooms(),
    );
    s = reducer(s, server(ev('error', { code: 'message_too_long', message: 'too long' }, 'c9')));
    expect(conv(s, 'lobby').pending).toHaveLength(0);
    expect(texts(conv(s, 'lobby'))).toEqual(['* not sent: spam (too long [message_too_long])']);
  });

  it('a message refused in a room not on screen is marked there; the reason shows where you are', () => {
    let s = run(
      [{ type: 'message_pending', roomId: 'dev', clientMsgId: 'c9', text: 'spam', now: NOW }],
      twoRooms(),
    );
    s = reducer(s, server(ev('error', { code: 'not_in_room', message: 'join dev first' }, 'c9')));
    expect(texts(conv(s, 'dev'))).toEqual(['* not sent: spam']);
    expect(texts(conv(s, 'lobby'))).toEqual(['* join dev first [not_in_room]']);
  });

  it('a DM is pending until the server echoes it with its ref, and "not sent" when refused', () => {
    let s = run(
      [
        { type: 'open_dm', nick: 'bob' },
        { type: 'message_pending', roomId: '@bob', clientMsgId: 'r1', text: 'psst', now: NOW },
        { type: 'message_pending', roomId: '@bob', clientMsgId: 'r2', text: 'again', now: NOW },
      ],
      twoRooms(),
    );
    const echo = { id: 'd1', ts: NOW, from: 'alice', to: 'bob', message: 'psst' };
    s = reducer(s, server(ev('dm', echo, 'r1')));
    expect(conv(s, '@bob').pending.map((p) => p.text)).toEqual(['again']);
    s = reducer(s, server(ev('error', { code: 'no_such_user', message: 'bob is not online' }, 'r2')));
    expect(conv(s, '@bob').pending).toEqual([]);
    expect(texts(conv(s, '@bob'))).toEqual([
      'alice:psst',
      '* not sent: again (bob is not online [no_such_user])',
    ]);
  });
});

describe('a server that lost its history', () => {
  it('keeps the old messages above a notice and accepts seq 1 again', () => {
    let s = run(
      [
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [1, 2, 3].map((n) => msg('lobby', n, 'bob', `old ${n}`)),
            has_more: false,
          }),
        ),
      ],
      twoRooms(),
    );
    s = run(
      [
        server(joined('lobby', ['alice'], 0)),
        server(ev('history', { room_id: 'lobby', messages: [], has_more: false, recovered: true })),
      ],
      s,
    );
    s = run(
      [
        server(ev('message', { ...msg('lobby', 1, 'bob', 'new 1'), id: 'x1' })),
        server(ev('message', { ...msg('lobby', 1, 'bob', 'new 1'), id: 'x1' })),
      ],
      s,
    );
    s = reducer(
      s,
      server(
        ev('history', {
          room_id: 'lobby',
          messages: [{ ...msg('lobby', 1, 'bob', 'new 1'), id: 'x1' }],
          has_more: false,
        }),
      ),
    );
    expect(texts(conv(s, 'lobby'))).toEqual([
      'bob:old 1',
      'bob:old 2',
      'bob:old 3',
      '* the server restarted without its history; the messages above are from before',
      'bob:new 1',
    ]);
    expect(new Set(conv(s, 'lobby').entries.map((e) => e.key)).size).toBe(5);
  });
});

describe('a room whose history started again (another epoch)', () => {
  it('keeps the old messages above a notice and takes the new history from seq 1, even past the old seqs', () => {
    const epoch = (e: string, lastSeq: number) =>
      server(
        ev('joined', {
          room_id: 'lobby',
          room_name: 'lobby',
          members: ['alice'],
          last_seq: lastSeq,
          epoch: e,
        }),
      );
    let s = run([
      server(welcome('alice')),
      epoch('a1', 0),
      server(
        ev('history', {
          room_id: 'lobby',
          messages: [1, 2].map((n) => msg('lobby', n, 'bob', `old ${n}`)),
          has_more: false,
        }),
      ),
    ]);
    expect(conv(s, 'lobby').epoch).toBe('a1');
    // The same epoch again (a reconnect): nothing starts over.
    s = reducer(s, epoch('a1', 2));
    expect(conv(s, 'lobby').newestSeq).toBe(2);
    // Another history, already past seq 2: the seq alone would not tell.
    s = run(
      [
        epoch('b7', 3),
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [1, 2, 3].map((n) => msg('lobby', n, 'carol', `new ${n}`)),
            has_more: false,
          }),
        ),
      ],
      s,
    );
    expect(texts(conv(s, 'lobby'))).toEqual([
      'bob:old 1',
      'bob:old 2',
      "* this room's history started again on the server; the messages above are from before",
      'carol:new 1',
      'carol:new 2',
      'carol:new 3',
    ]);
    expect(conv(s, 'lobby')).toMatchObject({ epoch: 'b7', newestSeq: 3 });
  });
});

describe('history paging', () => {
  it.each([
    ['join history sets has_more', false, true, true],
    ['a page reply updates has_more', true, false, false],
  ])('%s', (_name, paging, hasMore, expected) => {
    let s = twoRooms();
    if (paging) {
      s = reducer(
        s,
        server(ev('history', { room_id: 'lobby', messages: [msg('lobby', 5)], has_more: true })),
      );
      s = reducer(s, { type: 'history_requested', id: 'lobby' });
      expect(conv(s, 'lobby').loadingOlder).toBe(true);
    }
    s = reducer(
      s,
      server(ev('history', { room_id: 'lobby', messages: [msg('lobby', 1)], has_more: hasMore })),
    );
    expect(conv(s, 'lobby').hasMore).toBe(expected);
    expect(conv(s, 'lobby').loadingOlder).toBe(false);
  });

  it('a page shorter than asked for (pages are capped by bytes too) keeps paging open from its oldest message', () => {
    const seqs = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => msg('lobby', from + i));
    let s = reducer(
      twoRooms(),
      server(ev('history', { room_id: 'lobby', messages: seqs(180, 200), has_more: true })),
    );
    s = reducer(s, { type: 'history_requested', id: 'lobby' });
    // 100 asked for, 10 long ones came back: there are still older ones.
    s = reducer(s, server(ev('history', { room_id: 'lobby', messages: seqs(170, 179), has_more: true })));
    expect(conv(s, 'lobby').hasMore).toBe(true);
    expect(conv(s, 'lobby').loadingOlder).toBe(false);
    expect(conv(s, 'lobby').oldestSeq).toBe(170);
  });

  it('a since_seq replay leaves has_more alone and counts what was missed as unread', () => {
    let s = run(
      [server(ev('history', { room_id: 'dev', messages: [msg('dev', 1)], has_more: true }))],
      twoRooms(),
    );
    s = reducer(
      s,
      server(
        ev('history', {
          room_id: 'dev',
          messages: [msg('dev', 2), msg('dev', 3)],
          has_more: false,
          recovered: true,
        }),
      ),
    );
    expect(conv(s, 'dev').hasMore).toBe(true);
    expect(conv(s, 'dev').unread).toBe(2);
  });

  it('an unrecoverable gap is said out loud', () => {
    const s = run(
      [
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [msg('lobby', 90)],
            has_more: false,
            recovered: false,
          }),
        ),
      ],
      twoRooms(),
    );
    expect(texts(conv(s, 'lobby')).at(-1)).toMatch(/no longer on the server/);
  });
});

describe('scrolling', () => {
  it('new messages while scrolled up keep the view still and count as new below', () => {
    let s = run(
      [
        server(
          ev('history', {
            room_id: 'lobby',
            messages: [1, 2, 3].map((n) => msg('lobby', n)),
            has_more: false,
          }),
        ),
      ],
      twoRooms(),
    );
    s = reducer(s, { type: 'scroll_to', id: 'lobby', anchor: { below: 1, skip: 0 } });
    s = run([server(ev('message', msg('lobby', 4))), server(ev('message', msg('lobby', 5)))], s);
    expect(conv(s, 'lobby').scroll).toEqual({ below: 3, skip: 0 });
    expect(conv(s, 'lobby').newBelow).toBe(2);
    expect(conv(s, 'lobby').unread).toBe(0);
  });

  it('older history on top does not move the view', () => {
    let s = run(
      [
        server(
          ev('history', { room_id: 'lobby', messages: [10, 11].map((n) => msg('lobby', n)), has_more: true }),
        ),
      ],
      twoRooms(),
    );
    s = reducer(s, { type: 'scroll_to', id: 'lobby', anchor: { below: 1, skip: 0 } });
    s = reducer(
      s,
      server(
        ev('history', { room_id: 'lobby', messages: [8, 9].map((n) => msg('lobby', n)), has_more: false }),
      ),
    );
    expect(conv(s, 'lobby').scroll).toEqual({ below: 1, skip: 0 });
  });

  it('back to live clears the new-below count', () => {
    let s = reducer(twoRooms(), { type: 'scroll_to', id: 'lobby', anchor: { below: 0, skip: 1 } });
    s = reducer(s, server(ev('message', msg('lobby', 1))));
    s = reducer(s, { type: 'scroll_to', id: 'lobby', anchor: null });
    expect(conv(s, 'lobby').newBelow).toBe(0);
    expect(conv(s, 'lobby').scroll).toBeNull();
  });
});

describe('input line and history', () => {
  const type = (text: string): Action => ({ type: 'input_insert', text });
  const enter: Action = { type: 'input_submit', record: true };
  it.each([
    ['Up recalls the last line', [type('one'), enter, type('two'), enter, { type: 'history_prev' }], 'two'],
    [
      'Up twice goes further back',
      [type('one'), enter, type('two'), enter, { type: 'history_prev' }, { type: 'history_prev' }],
      'one',
    ],
    [
      'Down returns to the draft',
      [type('one'), enter, type('dra'), { type: 'history_prev' }, { type: 'history_next' }],
      'dra',
    ],
    [
      'a secret is not recorded',
      [
        type('one'),
        enter,
        type('/register hunter22'),
        { type: 'input_submit', record: false },
        { type: 'history_prev' },
      ],
      'one',
    ],
    [
      'a repeat is recorded once',
      [type('a'), enter, type('a'), enter, { type: 'history_prev' }, { type: 'history_prev' }],
      'a',
    ],
    ['Backspace removes a whole emoji', [type('hi 👍🏽'), { type: 'input_backspace' }], 'hi '],
    ['Ctrl+W removes a word', [type('hello big world'), { type: 'input_delete_word' }], 'hello big '],
    [
      'typing at the cursor',
      [type('hllo'), { type: 'input_move', to: 'home' }, { type: 'input_move', to: 'right' }, type('e')],
      'hello',
    ],
  ] as [string, Action[], string][])('%s', (_name, actions, expected) => {
    expect(run(actions, twoRooms()).input.text).toBe(expected);
  });
});

describe('tab completion', () => {
  const type = (text: string): Action => ({ type: 'input_insert', text });
  const tab: Action = { type: 'complete' };
  it.each([
    ['a nick at the start addresses it', [type('bo'), tab], 'bob: '],
    ['a nick mid-line', [type('hi b'), tab], 'hi bob '],
    ['a command', [type('/jo'), tab], '/join '],
    ['a room after /join', [type('/join d'), tab], '/join dev '],
    ['a room after #', [type('see #de'), tab], 'see #dev '],
    ['a nick after /msg', [type('/msg b'), tab], '/msg bob '],
    ['no match leaves the line', [type('zz'), tab], 'zz'],
    ['Tab again cycles', [type('/join '), tab, tab], '/join lobby '],
  ] as [string, Action[], string][])('%s', (_name, actions, expected) => {
    const s = run(actions, twoRooms());
    expect(s.input.text).toBe(expected);
    expect(s.input.cursor).toBe(expected.length);
  });
});

describe('connection and identity', () => {
  it('a dropped link marks rooms to rejoin and forgets the lag; joined marks them live again', () => {
    let s = reducer(reducer(twoRooms(), { type: 'lag', ms: 12 }), {
      type: 'status',
      status: { state: 'reconnecting', attempt: 1, retryAt: NOW + 2000 },
    });
    expect(conv(s, 'lobby').joined).toBe(false);
    expect(s.identified).toBe(false);
    expect(s.lagMs).toBeNull();
    s = run(
      [
        { type: 'status', status: { state: 'connected' } },
        server(welcome('alice')),
        server(joined('lobby', ['alice'])),
      ],
      s,
    );
    expect(conv(s, 'lobby').joined).toBe(true);
    expect(conv(s, 'dev').joined).toBe(false);
    expect(s.current).toBe('lobby');
  });

  it('a refused nick opens the prompt; choosing one closes it', () => {
    let s = reducer(initialState('ws://t', 'alice'), {
      type: 'nick_rejected',
      nick: 'alice',
      code: 'nick_taken',
      message: 'alice is online already',
      now: NOW,
    });
    expect(s.nickPrompt).toMatchObject({ nick: 'alice', needsPassword: false });
    expect(s.system.at(-1)).toMatchObject({ tone: 'error' });
    s = reducer(s, { type: 'nick_chosen', nick: 'alice2' });
    expect(s.nickPrompt).toBeNull();
    expect(s.nick).toBe('alice2');
  });

  it('our rename changes our nick; others renaming updates members and DMs', () => {
    let s = run(
      [
        { type: 'open_dm', nick: 'bob' },
        server(ev('nick_changed', { old_name: 'alice', user_name: 'alicia' })),
      ],
      twoRooms(),
    );
    expect(s.nick).toBe('alicia');
    s = reducer(s, server(ev('nick_changed', { room_id: 'lobby', old_name: 'bob', user_name: 'robert' })));
    expect(conv(s, 'lobby').members).toEqual(['alice', 'robert']);
    expect(s.order).toContain('@robert');
    expect(s.current).toBe('@robert');
  });

  it("a rename moves the prefix, unless the server names the new nick's role", () => {
    let s = run(
      [
        server(ev('role_changed', { room_id: 'lobby', user_name: 'bob', role: 'operator', by: 'alice' })),
        server(ev('nick_changed', { room_id: 'lobby', old_name: 'bob', user_name: 'robert' })),
      ],
      twoRooms(),
    );
    // An older server says nothing: the prefix goes with the nick, as IRC clients do.
    expect(conv(s, 'lobby').roles).toEqual({ robert: 'operator' });
    // A standing operator status stays with the registered nick: the room says none.
    s = reducer(
      s,
      server(ev('nick_changed', { room_id: 'lobby', old_name: 'robert', user_name: 'rob', role: null })),
    );
    expect(conv(s, 'lobby').roles).toEqual({});
    s = reducer(
      s,
      server(ev('nick_changed', { room_id: 'lobby', old_name: 'rob', user_name: 'bob', role: 'operator' })),
    );
    expect(conv(s, 'lobby').roles).toEqual({ bob: 'operator' });
  });

  it('joins and leaves update members with a notice', () => {
    const s = run(
      [
        server(ev('user_joined', { room_id: 'lobby', user_name: 'dan' })),
        server(ev('user_left', { room_id: 'lobby', user_name: 'bob', reason: 'slow_consumer' })),
      ],
      twoRooms(),
    );
    expect(conv(s, 'lobby').members).toEqual(['alice', 'dan']);
    expect(texts(conv(s, 'lobby'))).toEqual(['* dan joined', '* bob left (slow_consumer)']);
  });
});

describe('sanitising', () => {
  it('strips escape sequences from a close reason', () => {
    const s = reducer(twoRooms(), {
      type: 'status',
      status: { state: 'reconnecting', attempt: 1, retryAt: 0, reason: 'bye\x1b]0;x\x07\x1b[2J' },
    });
    expect(s.status).toMatchObject({ reason: 'bye' });
  });

  it('strips escape sequences from nicks, messages, room names and errors', () => {
    const evil = '\x1b[2J\x1b]0;pwned\x07\x07';
    const s = run(
      [
        server(
          ev('joined', { room_id: 'x', room_name: `room${evil}`, members: [`mal${evil}`], last_seq: 0 }),
        ),
        server(ev('message', msg('x', 1, `mal${evil}`, `hi${evil}\x1b[31mred`))),
        server(ev('error', { code: 'internal_error', message: `oops${evil}` })),
      ],
      twoRooms(),
    );
    const json = JSON.stringify(s);
    expect(json).not.toMatch(/\\u001b|\\u0007|pwned/);
    expect(conv(s, 'x').name).toBe('room');
    expect(texts(conv(s, 'x'))).toEqual(['mal:hired']);
  });
});
