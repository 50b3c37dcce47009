import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/events.js';
import type { ClientMessage } from '../../../src/protocol/schema.js';
import { LineSession, PASSWORD_PROMPT, PROMPT } from '../../../src/server/transports/line-session.js';
import type { LineEvent } from '../../../src/server/transports/tcp-lines.js';

/**
 * The line-mode client without a socket: the test types lines, reads the text and requests that
 * come out, and answers as the hub would (the protocol is the session's whole interface).
 */
function harness(replyTimeoutMs = 10_000) {
  let text = '';
  const sent: ClientMessage[] = [];
  let quits = 0;
  const goodbyes: ({ reason?: string } | undefined)[] = [];
  let reading = true;
  let onReading: (() => void) | undefined;
  const session = new LineSession(
    {
      write: (t) => (text += t),
      dispatch: (m) => sent.push(m),
      quit: (goodbye) => {
        quits++;
        goodbyes.push(goodbye);
      },
      reading: (on) => {
        reading = on;
        onReading?.();
      },
    },
    { replyTimeoutMs, defaultRoom: 'lobby' },
  );
  const lines = (...ls: string[]): LineEvent[] => ls.map((l) => ({ kind: 'line', text: l }));
  return {
    session,
    sent,
    get quits() {
      return quits;
    },
    goodbyes,
    get reading() {
      return reading;
    },
    /** Text written since the last call. */
    take(): string {
      const t = text;
      text = '';
      return t;
    },
    type: (...ls: string[]) => session.input(lines(...ls)),
    end: (...ls: string[]) => session.endInput(lines(...ls)),
    last: (): ClientMessage => sent[sent.length - 1]!,
    /** Answers a request and waits for the turn where queued input is looked at again (a gate settles then). */
    async answer(message: ServerMessage): Promise<void> {
      const resumed = new Promise<void>((resolve) => (onReading = resolve));
      session.receive(message);
      await resumed;
      onReading = undefined;
    },
  };
}

const welcome = (nick: string, ref: string): ServerMessage => ({
  type: 'welcome',
  ref,
  payload: {
    user_name: nick,
    user_id: 'u1',
    session_id: 's1',
    server_version: 'test',
    default_room: 'lobby',
    registered: false,
    limits: { max_message_chars: 4000, max_nick_chars: 32, max_history_page: 500 },
  },
});
const joined = (room: string, ref: string): ServerMessage => ({
  type: 'joined',
  ref,
  payload: { room_id: room, room_name: room, members: ['alice'], last_seq: 0 },
});

/** A session signed in as alice and talking in #lobby. */
async function signedIn() {
  const h = harness();
  h.session.start();
  h.type('alice');
  await h.answer(welcome('alice', h.last().ref as string));
  await h.answer(joined('lobby', h.last().ref as string));
  h.take();
  return h;
}

describe('LineSession: the nick prompt', () => {
  it('greets, sends hello for the nick typed, then joins the default room', async () => {
    const h = harness();
    h.session.start();
    expect(h.take()).toMatch(/welcome to chat.*\r\nnick: $/s);
    h.type('alice', 'hello everyone');
    expect(h.sent).toEqual([{ type: 'hello', payload: { user_name: 'alice' }, ref: 'tcp1' }]);
    // The chat line waits for the answer: it must go to the room joined next.
    expect(h.reading).toBe(false);
    await h.answer(welcome('alice', 'tcp1'));
    expect(h.last()).toEqual({ type: 'join', payload: { room_id: 'lobby' }, ref: 'tcp2' });
    await h.answer(joined('lobby', 'tcp2'));
    expect(h.last()).toMatchObject({
      type: 'message',
      payload: { room_id: 'lobby', message: 'hello everyone' },
    });
  });

  it('refuses a nick with spaces and a command other than /help or /quit, asking again', () => {
    const h = harness();
    h.type('al ice', '/join dev');
    expect(h.take()).toBe(
      `*** error: a nick cannot contain spaces\r\n${PROMPT}*** pick a nick first\r\n${PROMPT}`,
    );
    expect(h.sent).toEqual([]);
  });

  it('asks for the password of a registered nick, and a new nick after an empty answer', async () => {
    const h = harness();
    h.type('alice');
    await h.answer({
      type: 'error',
      ref: 'tcp1',
      payload: { code: 'nick_registered', message: 'registered' },
    } as ServerMessage);
    expect(h.take()).toBe(
      `*** alice is registered; type its password (an empty line picks another nick)\r\n${PASSWORD_PROMPT}`,
    );
    h.type('hunter22!');
    expect(h.last()).toEqual({
      type: 'hello',
      payload: { user_name: 'alice', password: 'hunter22!' },
      ref: 'tcp2',
    });
  });

  it('asks again when the hub does not answer in time', async () => {
    const h = harness(20);
    h.type('alice');
    const resumed = new Promise<void>((resolve) => {
      const poll = () => (h.reading ? resolve() : setImmediate(poll));
      poll();
    });
    await resumed;
    expect(h.take()).toBe(PROMPT);
  });
});

describe('LineSession: commands through the shared table', () => {
  it('/join needs-help joins the room called needs-help', async () => {
    const h = await signedIn();
    h.type('/join needs-help');
    expect(h.last()).toMatchObject({ type: 'join', payload: { room_id: 'needs-help' } });
    await h.answer(joined('needs-help', h.last().ref as string));
    h.type('hi');
    expect(h.last()).toMatchObject({ type: 'message', payload: { room_id: 'needs-help', message: 'hi' } });
  });

  it('/join of a room already joined switches without asking the hub', async () => {
    const h = await signedIn();
    const before = h.sent.length;
    h.type('/join #lobby');
    expect(h.sent.length).toBe(before);
    expect(h.take()).toBe('*** now talking in #lobby\r\n');
  });

  it('/users and /leave apply to the current room; after leaving it, there is none', async () => {
    const h = await signedIn();
    h.type('/users');
    expect(h.last()).toMatchObject({ type: 'users', payload: { room_id: 'lobby' } });
    h.type('/leave');
    expect(h.last()).toMatchObject({ type: 'leave', payload: { room_id: 'lobby' } });
    await h.answer({
      type: 'user_left',
      ref: h.last().ref as string,
      payload: { room_id: 'lobby', user_name: 'alice' },
    });
    expect(h.take()).toBe('*** you left #lobby\r\n*** you are in no room now; /join one\r\n');
    h.type('/users', 'hello?');
    expect(h.take()).toBe(
      '*** error: you are in no room; /users <room>\r\n*** error: you are in no room; /join one\r\n',
    );
  });

  it('/rooms more continues the last listing with its filter, and says when there is no more', async () => {
    const h = await signedIn();
    h.type('/rooms more');
    expect(h.take()).toBe('*** no more rooms to list; /rooms [filter] starts again\r\n');
    h.type('/rooms dev');
    expect(h.last()).toMatchObject({ type: 'rooms', payload: { filter: 'dev' } });
    h.session.receive({
      type: 'rooms',
      ref: h.last().ref as string,
      payload: { rooms: [], has_more: true, next_cursor: 'c9' },
    });
    h.type('/rooms more');
    expect(h.last()).toMatchObject({ type: 'rooms', payload: { filter: 'dev', cursor: 'c9' } });
  });

  it('/show renders the one message whole, or says it is not there', async () => {
    const h = await signedIn();
    h.type('/show lobby 3');
    const ref = h.last().ref as string;
    expect(h.last()).toEqual({
      type: 'history',
      payload: { room_id: 'lobby', before_seq: 4, limit: 1 },
      ref,
    });
    h.take();
    h.session.receive({ type: 'history', ref, payload: { room_id: 'lobby', messages: [], has_more: false } });
    expect(h.take()).toBe('*** no message 3 in #lobby (not there, or no longer kept)\r\n');
  });

  it('/quit waits for the answers still due, then quits', async () => {
    const h = await signedIn();
    h.type('/register hunter22!', '/quit');
    expect(h.quits).toBe(0);
    h.session.receive({ type: 'registered', ref: h.last().ref as string, payload: { user_name: 'alice' } });
    expect(h.quits).toBe(1);
  });

  it('the end of input quits once its lines are handled', async () => {
    const h = await signedIn();
    h.end('bye all');
    expect(h.last()).toMatchObject({ type: 'message', payload: { message: 'bye all' } });
    h.session.receive({
      type: 'error',
      ref: h.last().ref as string,
      payload: { code: 'rate_limited', message: 'slow down' },
    } as ServerMessage);
    expect(h.quits).toBe(1);
  });

  it('a request the codec refuses is answered with its error and never sent', async () => {
    const h = await signedIn();
    const before = h.sent.length;
    h.type('/join bad/room');
    expect(h.sent.length).toBe(before);
    expect(h.take()).toMatch(/^\*\*\* error: .+\r\n$/);
  });
});

describe('LineSession: issue 14 (actions, away, quit reasons, rooms without case)', () => {
  it('/me sends an action to the current room', async () => {
    const h = await signedIn();
    h.type('/me waves hello');
    expect(h.last()).toMatchObject({
      type: 'message',
      payload: { room_id: 'lobby', message: 'waves hello', kind: 'action' },
    });
  });

  it('/quit reason says goodbye with it; input ending without /quit is no goodbye', async () => {
    const h = await signedIn();
    h.type('/quit see you tomorrow');
    expect(h.goodbyes).toEqual([{ reason: 'see you tomorrow' }]);
    const quiet = await signedIn();
    quiet.end();
    expect(quiet.goodbyes).toEqual([undefined]);
    const bare = await signedIn();
    bare.type('/quit');
    expect(bare.goodbyes).toEqual([{}]);
  });

  it('a quit reason that is too long is refused and the session stays', async () => {
    const h = await signedIn();
    h.type(`/quit ${'x'.repeat(301)}`);
    expect(h.quits).toBe(0);
    expect(h.take()).toMatch(/^\*\*\* error: reason: at most 300 characters/);
  });

  it('a quit or away state reaching several shared rooms is shown once', async () => {
    const h = await signedIn();
    const quit = (room: string): ServerMessage => ({
      type: 'user_left',
      payload: { room_id: room, user_name: 'bob', reason: 'bye', quit: true },
    });
    const away = (room: string, message?: string): ServerMessage => ({
      type: 'user_away',
      payload: { room_id: room, user_name: 'bob', ...(message !== undefined ? { message } : {}) },
    });
    h.session.receive(away('lobby', 'lunch'));
    h.session.receive(away('dev', 'lunch'));
    h.session.receive(away('dev'));
    h.session.receive(away('lobby'));
    h.session.receive(quit('lobby'));
    h.session.receive(quit('dev'));
    expect(h.take()).toBe('*** bob is away: lunch\r\n*** bob is back\r\n*** bob quit (bye)\r\n');
    // Back again (a join) and quitting again is news.
    h.session.receive({ type: 'user_joined', payload: { room_id: 'lobby', user_name: 'bob' } });
    h.take();
    h.session.receive(quit('lobby'));
    expect(h.take()).toBe('*** bob quit (bye)\r\n');
  });

  it('your own away answer, and the away reply to a DM', async () => {
    const h = await signedIn();
    h.session.receive({ type: 'user_away', payload: { user_name: 'alice', message: 'out' } });
    h.session.receive({ type: 'user_away', payload: { user_name: 'alice' } });
    h.session.receive({ type: 'user_away', payload: { user_name: 'bob', message: 'fishing' } });
    expect(h.take()).toBe('*** you are away: out\r\n*** you are back\r\n*** bob is away: fishing\r\n');
  });

  it('/join and /leave find a joined room in any case', async () => {
    const h = await signedIn();
    h.type('/join LOBBY');
    expect(h.take()).toBe('*** now talking in #lobby\r\n');
    h.type('/join dev');
    await h.answer(joined('Dev', h.last().ref as string));
    h.type('/leave DEV');
    expect(h.last()).toMatchObject({ type: 'leave', payload: { room_id: 'DEV' } });
    await h.answer({
      type: 'user_left',
      ref: h.last().ref as string,
      payload: { room_id: 'Dev', user_name: 'alice' },
    });
    expect(h.take()).toContain('now talking in #lobby');
  });
});
