/**
 * The browser page's logic under Node, without a browser: web/app.js (the page as built from
 * src/web/ into dist/browser/) exports its pure parts (the shared slash-command table and the
 * state model) and only boots when there is a document.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF } from '../../src/client/backoff.js';
import { COMMANDS, helpLines, parseLine } from '../../src/protocol/commands.js';

interface Conv {
  key: string;
  kind: 'room' | 'dm';
  id: string;
  name: string;
  items: { kind: string; text: string; seq?: number; nick?: string; mine?: boolean; mention?: boolean }[];
  unread: number;
  mention: boolean;
  lastSeq: number;
  historyEpoch?: string;
  firstSeq: number | null;
  members: Set<string>;
  hasMore: boolean;
}
interface State {
  nick: string | null;
  current: string | null;
  convs: Map<string, Conv>;
}
interface WebApp {
  COMMANDS: Record<string, { usage: string; help: string; aliases?: string[] }>;
  parseLine: typeof parseLine;
  helpLines: typeof helpLines;
  cleanText(text: string, options?: { keepNewlines?: boolean }): string;
  mentions(text: string, nick: string): boolean;
  backoffDelay(attempt: number, random?: () => number): number;
  createState(): State;
  applyEvent(
    state: State,
    event: { type: string; payload: unknown; ref?: string },
    request?: Record<string, unknown>,
  ): void;
  selectConv(state: State, key: string): void;
}

// A path in a variable keeps TypeScript from type-checking the plain-JS module.
const appPath = '../../web/app.js';
const web = (await import(appPath)) as WebApp;

const LINES = [
  'hello',
  '',
  ' /join x',
  '//not a command',
  '/join lobby',
  '/join #dev',
  '/j dev',
  '/join',
  '/join a b',
  '/JOIN Dev',
  '/leave',
  '/leave #dev',
  '/part dev extra',
  '/users',
  '/names #lobby',
  '/who a b',
  '/rooms',
  '/list now',
  '/msg bob hi there',
  '/msg bob   spaced   text ',
  '/dm bob',
  '/query bob bob said hi',
  '/msg',
  '/nick carol',
  '/nick',
  '/nick a b',
  '/register hunter22',
  '/register    ',
  '/help',
  '/help /join',
  '/h msg',
  '/? nope',
  '/quit',
  '/exit now',
  '/q',
  '/',
  '/frobnicate',
  `/${'x'.repeat(80)}`,
  '/msg bob multi\nline',
];

describe('web/app.js parses slash commands with the shared table of src/protocol/commands.ts (as built)', () => {
  it('has the same commands, usage, help and aliases', () => {
    const strip = (table: Record<string, { usage: string; help: string; aliases?: string[] }>) =>
      Object.fromEntries(
        Object.entries(table).map(([k, v]) => [
          k,
          { usage: v.usage, help: v.help, aliases: v.aliases ?? [] },
        ]),
      );
    expect(strip(web.COMMANDS)).toEqual(strip(COMMANDS));
  });

  it.each(LINES)('parses %j the same way', (line) => {
    expect(web.parseLine(line)).toEqual(parseLine(line));
  });

  it('prints the same help', () => {
    expect(web.helpLines()).toEqual(helpLines());
    for (const [name, spec] of Object.entries(COMMANDS)) {
      for (const word of [name, ...(spec.aliases ?? [])])
        expect(web.helpLines(word)).toEqual(helpLines(word));
    }
    expect(web.helpLines('nope')).toEqual(helpLines('nope'));
  });
});

describe('web/app.js state model', () => {
  const msg = (seq: number, user: string, text: string) => ({
    type: 'message',
    payload: {
      room_id: 'lobby',
      seq,
      id: `m${seq}`,
      ts: 1_700_000_000_000 + seq,
      user_name: user,
      message: text,
    },
  });
  const joined = (state: State, room = 'lobby', members = ['alice', 'bob']) =>
    web.applyEvent(state, {
      type: 'joined',
      payload: { room_id: room, room_name: room, members, last_seq: 0 },
    });
  const texts = (conv: Conv) =>
    conv.items.map((i) => (i.kind === 'notice' ? `* ${i.text}` : `<${i.nick}> ${i.text}`));

  function fresh(): State {
    const state = web.createState();
    web.applyEvent(state, { type: 'welcome', payload: { user_name: 'alice', default_room: 'lobby' } });
    return state;
  }

  it('puts the join notice after the replayed history and dedupes by seq', () => {
    const state = fresh();
    joined(state);
    web.applyEvent(state, {
      type: 'history',
      payload: {
        room_id: 'lobby',
        messages: [msg(1, 'bob', 'one').payload, msg(2, 'alice', 'two').payload],
        has_more: true,
      },
    });
    web.applyEvent(state, msg(2, 'alice', 'two'));
    web.applyEvent(state, msg(3, 'bob', 'three'));
    const lobby = state.convs.get('#lobby')!;
    expect(texts(lobby)).toEqual(['<bob> one', '<alice> two', '* you joined #lobby', '<bob> three']);
    expect(lobby.lastSeq).toBe(3);
    expect(lobby.hasMore).toBe(true);
    expect(lobby.items[1]!.mine).toBe(true);
  });

  it('starts again when the room is another history (another epoch), even past the seqs it held', () => {
    const state = fresh();
    const epochJoin = (epoch: string, lastSeq: number) =>
      web.applyEvent(state, {
        type: 'joined',
        payload: { room_id: 'lobby', room_name: 'lobby', members: ['alice'], last_seq: lastSeq, epoch },
      });
    epochJoin('a1', 0);
    web.applyEvent(state, { type: 'history', payload: { room_id: 'lobby', messages: [], has_more: false } });
    web.applyEvent(state, msg(1, 'bob', 'one'));
    web.applyEvent(state, msg(2, 'bob', 'two'));
    // Back after a reconnect: the server answered the old epoch with its latest page.
    epochJoin('b2', 3);
    web.applyEvent(state, {
      type: 'history',
      payload: {
        room_id: 'lobby',
        messages: [msg(1, 'carol', 'new one'), msg(2, 'carol', 'new two'), msg(3, 'carol', 'new three')].map(
          (m) => ({ ...m.payload, id: `n${m.payload.seq}` }),
        ),
        has_more: false,
      },
    });
    const lobby = state.convs.get('#lobby')!;
    expect(texts(lobby).filter((t) => t.startsWith('<'))).toEqual([
      '<bob> one',
      '<bob> two',
      '<carol> new one',
      '<carol> new two',
      '<carol> new three',
    ]);
    expect(lobby.lastSeq).toBe(3);
    expect(lobby.historyEpoch).toBe('b2');
  });

  it('starts counting again when a restarted server lost the room (its seqs restart)', () => {
    const state = fresh();
    joined(state);
    web.applyEvent(state, msg(1, 'bob', 'one'));
    web.applyEvent(state, msg(2, 'bob', 'two'));
    // Reconnected to a server without persistence: the room is new, last_seq 0.
    web.applyEvent(state, {
      type: 'joined',
      payload: { room_id: 'lobby', room_name: 'lobby', members: ['alice'], last_seq: 0 },
    });
    web.applyEvent(state, {
      type: 'history',
      payload: { room_id: 'lobby', messages: [], has_more: false, recovered: true },
    });
    web.applyEvent(state, msg(1, 'bob', 'one again'));
    const lobby = state.convs.get('#lobby')!;
    expect(texts(lobby).filter((t) => t.startsWith('<'))).toEqual([
      '<bob> one',
      '<bob> two',
      '<bob> one again',
    ]);
    expect(lobby.lastSeq).toBe(1);
  });

  it('counts unread and mentions only for conversations not on screen', () => {
    const state = fresh();
    joined(state);
    joined(state, 'dev', ['alice']);
    expect(state.current).toBe('#lobby');
    web.applyEvent(state, { type: 'message', payload: { ...msg(1, 'bob', 'hi').payload, room_id: 'dev' } });
    web.applyEvent(state, {
      type: 'message',
      payload: { ...msg(2, 'bob', 'ping @Alice!').payload, room_id: 'dev' },
    });
    web.applyEvent(state, {
      type: 'message',
      payload: { ...msg(3, 'alice', 'mine').payload, room_id: 'dev' },
    });
    web.applyEvent(state, msg(1, 'bob', 'on screen'));
    const dev = state.convs.get('#dev')!;
    expect(dev.unread).toBe(2);
    expect(dev.mention).toBe(true);
    expect(state.convs.get('#lobby')!.unread).toBe(0);
    web.selectConv(state, '#dev');
    expect(dev.unread).toBe(0);
    expect(dev.mention).toBe(false);
  });

  it('keeps direct messages as their own conversation, from either side', () => {
    const state = fresh();
    joined(state);
    web.applyEvent(state, {
      type: 'dm',
      payload: { id: 'd1', ts: 1, from: 'Bob', to: 'alice', message: 'psst' },
    });
    web.applyEvent(state, {
      type: 'dm',
      payload: { id: 'd2', ts: 2, from: 'alice', to: 'Bob', message: 'yes?' },
      ref: 'w1',
    });
    web.applyEvent(state, {
      type: 'dm',
      payload: { id: 'd2', ts: 2, from: 'alice', to: 'Bob', message: 'yes?' },
    });
    const dm = state.convs.get('@bob')!;
    expect(dm.kind).toBe('dm');
    expect(texts(dm)).toEqual(['<Bob> psst', '<alice> yes?']);
    expect(dm.unread).toBe(1);
  });

  it('applies a rename once although it arrives once per shared room', () => {
    const state = fresh();
    joined(state);
    joined(state, 'dev');
    web.applyEvent(state, {
      type: 'dm',
      payload: { id: 'd1', ts: 1, from: 'bob', to: 'alice', message: 'hi' },
    });
    web.applyEvent(state, {
      type: 'nick_changed',
      payload: { room_id: 'lobby', old_name: 'bob', user_name: 'robert' },
    });
    web.applyEvent(state, {
      type: 'nick_changed',
      payload: { room_id: 'dev', old_name: 'bob', user_name: 'robert' },
    });
    // Our own rename: once without a room, then once per room.
    web.applyEvent(state, { type: 'nick_changed', payload: { old_name: 'alice', user_name: 'alicia' } });
    web.applyEvent(state, {
      type: 'nick_changed',
      payload: { room_id: 'lobby', old_name: 'alice', user_name: 'alicia' },
    });
    expect(state.nick).toBe('alicia');
    const lobby = state.convs.get('#lobby')!;
    expect([...lobby.members].sort()).toEqual(['alicia', 'robert']);
    expect(texts(lobby).filter((t) => t.includes('now known as'))).toEqual([
      '* bob is now known as robert',
      '* alice is now known as alicia',
    ]);
    expect(state.convs.has('@bob')).toBe(false);
    expect(state.convs.get('@robert')!.name).toBe('robert');
  });

  it('strips terminal escapes and invisible controls but keeps markup as text', () => {
    expect(web.cleanText('<img src=x onerror=alert(1)> \x1b[31mred\x1b[0m\u202e!')).toBe(
      '<img src=x onerror=alert(1)> red!',
    );
    expect(web.cleanText('a\r\nb', { keepNewlines: false })).toBe('a b');
  });

  it('matches mentions as whole words only', () => {
    expect(web.mentions('hey alice!', 'alice')).toBe(true);
    expect(web.mentions('@Alice look', 'alice')).toBe(true);
    expect(web.mentions('malice', 'alice')).toBe(false);
    expect(web.mentions('a.b c', 'a.b')).toBe(true);
    expect(web.mentions('axb', 'a.b')).toBe(false);
  });

  it("backs off exponentially with jitter, capped at the terminal client's 10 s (src/client/backoff.ts)", () => {
    expect(web.backoffDelay(0, () => 1)).toBe(500);
    expect(web.backoffDelay(3, () => 1)).toBe(4000);
    expect(web.backoffDelay(3, () => 0)).toBe(2000);
    expect(web.backoffDelay(40, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(DEFAULT_BACKOFF.maxMs).toBe(10_000);
  });
});
