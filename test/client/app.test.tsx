import { describe, expect, it } from 'vitest';
import { App } from '../../src/client/tui/App.js';
import { ev, joined, msg, welcome } from '../helpers/client-events.js';
import { FakeConnection } from '../helpers/fake-connection.js';
import {
  ALT_2,
  ALT_A,
  ALT_ENTER,
  CTRL_C,
  CTRL_N,
  CTRL_P,
  END,
  ENTER,
  PAGE_UP,
  TAB,
  UP,
  plain,
  press,
  typeLine,
  useInkApps,
  waitForFrame,
} from '../helpers/ink-app.js';

/** The sidebar row for `name` (the text left of the border). */
function sidebarRow(frame: string, name: string): string {
  const row = frame.split('\n').find((l) => l.includes(name) && l.includes('│'));
  return (row ?? '').split('│')[0]!.trim();
}

const { mount } = useInkApps();

/** alice, connected, in lobby (with bob) and dev (with carol), lobby on screen. */
async function setup(options: { quit?: () => void; columns?: number } = {}) {
  const conn = new FakeConnection();
  const r = mount(
    <App
      connection={conn}
      nick="alice"
      size={{ columns: options.columns ?? 100, rows: 24 }}
      onQuit={options.quit}
    />,
  );
  conn.status({ state: 'connected' });
  conn.emit(
    welcome('alice'),
    joined('lobby', ['alice', 'bob']),
    ev('history', {
      room_id: 'lobby',
      messages: [msg('lobby', 1, 'bob', 'welcome to lobby')],
      has_more: false,
    }),
    joined('dev', ['alice', 'carol']),
  );
  await waitForFrame(r, (f) => f.includes('welcome to lobby') && f.includes('#dev'), 'the first screen');
  return { conn, r };
}

describe('App', () => {
  it('shows the sidebar, the messages, the status bar and the prompt', async () => {
    const { r, conn } = await setup();
    const frame = plain(r.lastFrame());
    expect(conn.started).toBe(true);
    expect(frame).toContain('Rooms');
    expect(sidebarRow(frame, '#lobby')).toMatch(/1 #lobby/);
    expect(sidebarRow(frame, '#dev')).toMatch(/2 #dev/);
    expect(frame).toMatch(/<bob> welcome to lobby/);
    expect(frame).toMatch(/alice \| connected \| #lobby \(2 users\)/);
    expect(frame).toContain('#lobby>');
    // Every row of the 24-row terminal is used: the bottom one is the input line.
    expect(frame.split('\n')).toHaveLength(24);
    expect(frame.split('\n')[23]).toContain('#lobby>');
  });

  it('switches rooms with Ctrl+N, Ctrl+P and Alt+2', async () => {
    const { r } = await setup();
    expect(await press(r, CTRL_N)).toContain('#dev>');
    expect(await press(r, CTRL_P)).toContain('#lobby>');
    expect(await press(r, ALT_2)).toMatch(/#dev \(2 users\)/);
  });

  it('counts unread messages per room, marks mentions, and clears them on switching', async () => {
    const { r, conn } = await setup();
    conn.emit(ev('message', msg('dev', 1, 'carol', 'anyone?')));
    let frame = await waitForFrame(r, (f) => /#dev +1\b/.test(sidebarRow(f, '#dev')), 'an unread count');
    conn.emit(ev('message', msg('dev', 2, 'carol', 'alice: ping')));
    frame = await waitForFrame(r, (f) => sidebarRow(f, '#dev').endsWith('2!'), 'a mention marker');
    expect(sidebarRow(frame, '#lobby')).toBe('1 #lobby');
    frame = await press(r, ALT_A);
    expect(frame).toContain('alice: ping');
    expect(sidebarRow(frame, '#dev')).toBe('2 #dev');
  });

  it('sends what is typed to the current room, shown until acknowledged', async () => {
    const { r, conn } = await setup();
    await typeLine(r, 'hello there');
    expect(conn.calls.at(-1)).toMatchObject({ op: 'message', room: 'lobby', text: 'hello there' });
    const frame = await waitForFrame(r, (f) => f.includes('<alice> hello there'), 'the pending line');
    expect(frame).toContain('#lobby>');
    const id = (conn.calls.at(-1) as { id: string }).id;
    conn.emit(ev('message', msg('lobby', 2, 'alice', 'hello there', { client_msg_id: id }), id));
    await waitForFrame(r, (f) => f.match(/hello there/g)?.length === 1, 'the acknowledged line once');
  });

  it('/msg opens a DM conversation and sends the message', async () => {
    const { r, conn } = await setup();
    const frame = await typeLine(r, '/msg bob psst');
    expect(conn.sent('dm')).toEqual([{ type: 'dm', payload: { to: 'bob', message: 'psst' } }]);
    expect(frame).toContain('Direct');
    expect(sidebarRow(frame, '@bob')).toBe('3 @bob');
    expect(frame).toContain('@bob>');
    conn.emit(ev('dm', { id: 'd1', ts: 1, from: 'alice', to: 'bob', message: 'psst' }));
    await waitForFrame(r, (f) => f.includes('<alice> psst'), 'the DM echo');
    // A reply in the DM while elsewhere counts as unread with a mention.
    await press(r, CTRL_N);
    conn.emit(ev('dm', { id: 'd2', ts: 2, from: 'bob', to: 'alice', message: 'hey' }));
    await waitForFrame(r, (f) => /^3 @bob +1!$/.test(sidebarRow(f, '@bob')), 'a DM unread marker');
  });

  it('neutralises escape sequences in nicks, messages, room names and errors', async () => {
    const { r, conn } = await setup();
    const evil = '\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31m\x07\x1bP+q\x1b\\\x9b31m';
    conn.emit(
      ev('joined', { room_id: 'evil', room_name: `evil${evil}`, members: [`m${evil}`], last_seq: 0 }),
      ev('message', msg('lobby', 2, `mal${evil}lory`, `look${evil}here`)),
      ev('error', { code: 'internal_error', message: `bad${evil}thing` }),
    );
    await waitForFrame(r, (f) => f.includes('lookhere') && f.includes('badthing'), 'the hostile lines');
    const raw = r.lastFrame() ?? '';
    const withoutInkStyling = plain(raw);
    expect(withoutInkStyling).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(withoutInkStyling).not.toContain('PWNED');
    expect(withoutInkStyling).not.toContain('[2J');
    expect(withoutInkStyling).toContain('<mallory> lookhere');
  });

  it('shows a hint for an unknown command and server errors inline', async () => {
    const { r, conn } = await setup();
    let frame = await typeLine(r, '/frobnicate');
    expect(frame).toMatch(/!! unknown command \/frobnicate; \/help lists the commands/);
    conn.emit(ev('error', { code: 'rate_limited', message: 'slow down' }));
    frame = await waitForFrame(r, (f) => f.includes('slow down [rate_limited]'), 'the server error');
    expect(frame).toContain('#lobby>');
  });

  it('/help lists the commands and keys', async () => {
    const { r } = await setup();
    const frame = await typeLine(r, '/help');
    // The shared table comes first (scrolled above at 24 rows), then the client's own commands.
    expect(frame).toContain('/ignore [nick]');
    expect(frame).toContain('Ctrl+N/Ctrl+P');
    expect(frame).toContain('Alt+J');
  });

  it('asks for another nick when the server refuses one', async () => {
    const conn = new FakeConnection();
    const r = mount(<App connection={conn} nick="alice" size={{ columns: 100, rows: 24 }} />);
    conn.signal({
      kind: 'nick_rejected',
      nick: 'alice',
      code: 'nick_taken',
      message: 'alice is online already; pick another nick',
    });
    let frame = await waitForFrame(r, (f) => f.includes('nick>'), 'the nick prompt');
    expect(frame).toMatch(/!! alice is online already; pick another nick: type another nick/);
    expect(frame).toContain('nick refused: choose another');
    frame = await typeLine(r, 'alice2');
    expect(conn.calls.at(-1)).toEqual({ op: 'identify', nick: 'alice2' });
    expect(frame).not.toContain('nick>');
  });

  it('hides the password of a registered nick while it is typed', async () => {
    const conn = new FakeConnection();
    const r = mount(<App connection={conn} nick="alice" size={{ columns: 100, rows: 24 }} />);
    conn.signal({
      kind: 'nick_rejected',
      nick: 'alice',
      code: 'nick_registered',
      message: 'alice is registered',
    });
    await waitForFrame(r, (f) => f.includes('nick>'), 'the nick prompt');
    const frame = await press(r, 'alice hunter22');
    expect(frame).toContain('nick> alice ********');
    await press(r, ENTER);
    expect(conn.calls.at(-1)).toEqual({ op: 'identify', nick: 'alice', password: 'hunter22' });
  });

  it('scrolls with PgUp, counts new messages below, and End goes back to live', async () => {
    const { r, conn } = await setup();
    conn.emit(
      ev('history', {
        room_id: 'lobby',
        messages: Array.from({ length: 60 }, (_, i) => msg('lobby', i + 2, 'bob', `line ${i + 2}`)),
        has_more: false,
      }),
    );
    await waitForFrame(r, (f) => f.includes('line 61'), 'the history');
    let frame = await press(r, PAGE_UP);
    expect(frame).not.toContain('line 61');
    expect(frame).toContain('more below');
    conn.emit(ev('message', msg('lobby', 62, 'bob', 'fresh')));
    frame = await waitForFrame(r, (f) => f.includes('1 new message below'), 'the new-below line');
    expect(frame).not.toContain('fresh');
    frame = await press(r, END);
    expect(frame).toContain('fresh');
    expect(frame).not.toContain('below');
  });

  it('loads older history when scrolled past the top', async () => {
    const { r, conn } = await setup();
    conn.emit(
      ev('history', {
        room_id: 'dev',
        messages: Array.from({ length: 30 }, (_, i) => msg('dev', i + 71)),
        has_more: true,
      }),
    );
    await press(r, CTRL_N);
    await waitForFrame(r, (f) => f.includes('message 100'), 'dev history');
    await press(r, PAGE_UP);
    await press(r, PAGE_UP);
    expect(conn.sent('history')).toEqual([
      { type: 'history', payload: { room_id: 'dev', before_seq: 71, limit: 100 } },
    ]);
    await waitForFrame(r, (f) => f.includes('loading older messages'), 'the loading header');
    conn.emit(
      ev('history', {
        room_id: 'dev',
        messages: Array.from({ length: 70 }, (_, i) => msg('dev', i + 1)),
        has_more: false,
      }),
    );
    // The second PgUp stopped short at the top; once the older page is in it goes the rest of the
    // way, into the new page.
    await waitForFrame(r, (f) => f.includes('message 55') && !f.includes('loading older'), 'the older page');
  });

  it('completes nicks with Tab and recalls lines with Up', async () => {
    const { r, conn } = await setup();
    let frame = await press(r, 'bo', TAB);
    expect(frame).toContain('#lobby> bob:');
    await typeLine(r, 'hi');
    expect(conn.calls.at(-1)).toMatchObject({ op: 'message', text: 'bob: hi' });
    frame = await press(r, UP);
    expect(frame).toContain('#lobby> bob: hi');
  });

  it('keys that arrive in one chunk with the text before them (a fast typist) still act', async () => {
    const { r, conn } = await setup();
    let frame = await press(r, '/jo\t');
    expect(frame).toContain('#lobby> /join');
    frame = await press(r, '\x15ca\x7f\x7fbo\t');
    expect(frame).toContain('#lobby> bob:');
    await press(r, 'yo\r');
    expect(conn.calls.at(-1)).toMatchObject({ op: 'message', text: 'bob: yo' });
  });

  it('Alt+Enter starts a new line in the message', async () => {
    const { r, conn } = await setup();
    await press(r, 'one', ALT_ENTER, 'two');
    await press(r, ENTER);
    expect(conn.calls.at(-1)).toMatchObject({ op: 'message', text: 'one\ntwo' });
  });

  it('/join switches at once to a pending room; what is typed before the join lands there', async () => {
    const { r, conn } = await setup();
    let frame = await typeLine(r, '/join #ops');
    expect(conn.calls.at(-1)).toEqual({ op: 'join', room: 'ops' });
    expect(frame).toContain('#ops>');
    expect(sidebarRow(frame, '#ops')).toMatch(/^3 #ops +joining…$/);
    expect(frame).toMatch(/alice \| connected \| #ops \(joining…\)/);
    expect(frame).toContain('-- joining #ops... --');
    frame = await typeLine(r, 'typed before the join');
    expect(conn.calls.at(-1)).toMatchObject({ op: 'message', room: 'ops', text: 'typed before the join' });
    expect(frame).toMatch(/<alice> typed before the join/);
    conn.emit(joined('ops', ['alice', 'bob']));
    frame = await waitForFrame(r, (f) => /#ops \(2 users\)/.test(f), 'ops joined');
    expect(sidebarRow(frame, '#ops')).toBe('3 #ops');
    expect(frame).toContain('-- start of #ops --');
    frame = await typeLine(r, '/leave');
    expect(conn.calls.at(-1)).toEqual({ op: 'leave', room: 'ops' });
    expect(frame).not.toContain('#ops');
  });

  it('a refused /join says why in the room and marks the lines that waited as not sent', async () => {
    const { r, conn } = await setup();
    await typeLine(r, '/join ops');
    await typeLine(r, 'hello ops');
    conn.signal({ kind: 'join_failed', roomId: 'ops', code: 'room_full', message: 'ops has 2 members' });
    const frame = await waitForFrame(r, (f) => f.includes('not sent: hello ops'), 'the failure');
    expect(frame).toContain('!! cannot join #ops: ops has 2 members [room_full]; /join ops tries again');
    expect(frame).not.toMatch(/<alice> hello ops/);
    expect(sidebarRow(frame, '#ops')).toMatch(/^3 #ops +failed$/);
    expect(frame).toMatch(/#ops \(not joined\)/);
    expect(frame).toContain('-- not in #ops: /join ops tries again --');
  });

  it('shows the reconnect countdown', async () => {
    const { r, conn } = await setup();
    conn.status({ state: 'reconnecting', attempt: 2, retryAt: Date.now() + 4_000 });
    const frame = await waitForFrame(r, (f) => /reconnecting in [34]s/.test(f), 'the countdown');
    expect(frame).toContain('#lobby');
  });

  it('a narrow status bar drops the server, the lag and the reason before the link state and the room', async () => {
    const { r, conn } = await setup({ columns: 60 });
    conn.signal({ kind: 'lag', ms: 12 });
    let frame = await waitForFrame(r, (f) => f.includes('lag 12 ms'), 'the lag');
    expect(frame).toContain('alice | connected | #lobby (2 users) | lag 12 ms');
    expect(frame).not.toContain('ws://fake');
    conn.status({
      state: 'reconnecting',
      attempt: 1,
      retryAt: Date.now() + 9_000,
      reason: 'connection lost',
    });
    frame = await waitForFrame(r, (f) => f.includes('reconnecting in'), 'the countdown');
    expect(frame).toMatch(/alice \| reconnecting in \d+s \| #lobby \(2 users\)$/m);
    expect(frame).not.toContain('connection lost');
    expect(frame).not.toContain('lag');
  });

  it('Ctrl+C and /quit quit', async () => {
    let quits = 0;
    const first = await setup({ quit: () => quits++ });
    first.r.stdin.write(CTRL_C);
    const second = await setup({ quit: () => quits++ });
    second.r.stdin.write('/quit');
    second.r.stdin.write(ENTER);
    await waitForFrame(second.r, () => quits === 2, 'two quits');
  });
});
