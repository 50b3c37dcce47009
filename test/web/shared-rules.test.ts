/**
 * The browser page (src/web/) keeps the rules every client shares: nicks compared as the server
 * compares them (case and look-alikes folded, src/protocol/nick.ts), mentions matched as in the
 * terminal client (src/client/state/mention.ts), text cleaned by the one sanitiser, and slash
 * commands read through the one parser. Its own copies of these had drifted.
 */
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/protocol/commands.js';
import { nickKey } from '../../src/protocol/nick.js';
import { sanitizeText } from '../../src/protocol/sanitize.js';
import { readInput } from '../../src/web/command-parser.js';
import { applyEvent } from '../../src/web/state/events.js';
import { createState, dmKey } from '../../src/web/state/model.js';
import type { MessageItem, State } from '../../src/web/state/types.js';
import { cleanText } from '../../src/web/text.js';

function signedIn(nick = 'alice'): State {
  const state = createState();
  applyEvent(state, { type: 'welcome', payload: { user_name: nick, default_room: 'lobby' } });
  applyEvent(state, {
    type: 'joined',
    payload: { room_id: 'lobby', room_name: 'lobby', members: [nick, 'bob'], last_seq: 0 },
  });
  applyEvent(state, { type: 'history', payload: { room_id: 'lobby', messages: [], has_more: false } });
  return state;
}

const say = (state: State, seq: number, user: string, message: string): MessageItem => {
  applyEvent(state, {
    type: 'message',
    payload: { room_id: 'lobby', seq, id: `m${seq}`, ts: 1_700_000_000_000, user_name: user, message },
  });
  const item = state.convs.get('#lobby')!.items.at(-1)!;
  if (item.kind === 'notice') throw new Error('expected a message');
  return item;
};

describe('the page compares nicks as the server does', () => {
  // Cyrillic В and о: the server refuses `Воb` while `bob` is online, for it is the same nick.
  const lookAlike = '\u0412\u043eb';

  it('keys a direct conversation by the server nick key', () => {
    expect(nickKey(lookAlike)).toBe(nickKey('bob'));
    expect(dmKey(lookAlike)).toBe(dmKey('bob'));
  });

  it('keeps one direct conversation with a person whatever case or look-alike spelling arrives', () => {
    const state = signedIn();
    applyEvent(state, { type: 'dm', payload: { id: 'd1', ts: 1, from: 'bob', to: 'alice', message: 'one' } });
    applyEvent(state, {
      type: 'dm',
      payload: { id: 'd2', ts: 2, from: lookAlike, to: 'alice', message: 'two' },
    });
    const dms = [...state.convs.values()].filter((c) => c.kind === 'dm');
    expect(dms).toHaveLength(1);
    expect(dms[0]!.items.map((i) => i.text)).toEqual(['one', 'two']);
  });

  it('knows its own messages and its own rename under a folded spelling', () => {
    const state = signedIn('alice');
    expect(say(state, 1, '\u0430lice', 'mine').mine).toBe(true); // Cyrillic а
    applyEvent(state, { type: 'nick_changed', payload: { old_name: 'ALICE', user_name: 'alicia' } });
    expect(state.nick).toBe('alicia');
  });

  it('drops a leaving member listed under another spelling', () => {
    const state = signedIn();
    applyEvent(state, { type: 'user_left', payload: { room_id: 'lobby', user_name: lookAlike } });
    expect([...state.convs.get('#lobby')!.members]).toEqual(['alice']);
  });
});

describe('the page matches mentions as the terminal client does', () => {
  it.each([
    ['hey alice!', true],
    ['alice: look', true],
    ['@Alice look', true],
    ['malice', false],
    ['alice-ish', false],
    ['alice_2 said', false],
    ['alice|away', false],
  ])('%j mentions alice: %s', (text, expected) => {
    expect(say(signedIn(), 1, 'bob', text).mention).toBe(expected);
  });
});

describe('the page cleans text with the shared sanitiser', () => {
  it.each([
    'tab\there',
    'osc \x1b]0;title\x07 done',
    'dcs \x1bPq#0;2;0;0;0\x1b\\ done',
    '8-bit csi \x9b31m red',
    'lone \ud800 surrogate',
    'line\u2028separator',
    'multi\nline',
  ])('%j', (text) => {
    expect(cleanText(text)).toBe(sanitizeText(text, { keepNewlines: true }));
    expect(cleanText(text, { keepNewlines: false })).toBe(sanitizeText(text));
  });

  it('takes what the network sent even when it is not a string', () => {
    expect(cleanText(undefined)).toBe('');
    expect(cleanText(42)).toBe('42');
  });
});

describe('the page reads slash commands through the shared parser', () => {
  it.each(['hello', '//literal', '/join #dev', '/msg bob hi there', '/nick', '/frobnicate', '/quit'])(
    '%j',
    (line) => {
      const parsed = parseLine(line);
      const input = readInput(line);
      if (parsed.kind === 'text') expect(input).toEqual({ kind: 'text', text: parsed.text });
      else if (parsed.kind === 'command') expect(input).toEqual({ kind: 'command', command: parsed.command });
      else expect(input).toEqual({ kind: 'error', message: parsed.message });
    },
  );
});
