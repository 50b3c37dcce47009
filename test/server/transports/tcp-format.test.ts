import { describe, expect, it } from 'vitest';
import type { ChatMessage, ServerMessage } from '../../../src/protocol/events.js';
import { outbound } from '../../../src/server/outbound.js';
import {
  clock,
  dmLines,
  renderLines,
  tcpLinesOf,
  toWire,
} from '../../../src/server/transports/tcp-format.js';

const TS = Date.UTC(2026, 0, 2, 12, 3, 45);
const msg = (over: Partial<ChatMessage> = {}): ChatMessage => ({
  room_id: 'lobby',
  seq: 1,
  id: 'm1',
  ts: TS,
  user_name: 'alice',
  message: 'hello',
  ...over,
});

describe('TCP rendering', () => {
  it.each<[string, ServerMessage, string[]]>([
    ['a message', { type: 'message', payload: msg() }, ['[12:03] #lobby <alice> hello']],
    [
      'a multi-line message, one prefixed line each',
      { type: 'message', payload: msg({ message: 'one\ntwo' }) },
      ['[12:03] #lobby <alice> one', '[12:03] #lobby <alice> two'],
    ],
    [
      'a join',
      { type: 'user_joined', payload: { room_id: 'lobby', user_name: 'bob' } },
      ['*** bob joined #lobby'],
    ],
    [
      'an action',
      { type: 'message', payload: msg({ message: 'waves', kind: 'action' }) },
      ['[12:03] #lobby * alice waves'],
    ],
    [
      'a DM action',
      {
        type: 'dm',
        payload: { id: 'd', ts: TS, from: 'bob', to: 'alice', message: 'pokes', kind: 'action' },
      },
      ['[12:03] *dm* * bob pokes'],
    ],
    [
      'a quit with its reason',
      {
        type: 'user_left',
        payload: { room_id: 'lobby', user_name: 'bob', reason: 'see you tomorrow', quit: true },
      },
      ['*** bob quit (see you tomorrow)'],
    ],
    [
      'a quit without one',
      { type: 'user_left', payload: { room_id: 'lobby', user_name: 'bob', reason: 'quit', quit: true } },
      ['*** bob quit'],
    ],
    [
      'a member going away',
      { type: 'user_away', payload: { room_id: 'lobby', user_name: 'bob', message: 'lunch' } },
      ['*** bob is away: lunch'],
    ],
    [
      'a member coming back',
      { type: 'user_away', payload: { room_id: 'lobby', user_name: 'bob' } },
      ['*** bob is back'],
    ],
    [
      'users with an away member',
      {
        type: 'users',
        payload: {
          room_id: 'lobby',
          users: ['alice', 'bob'],
          members: [{ user_name: 'alice' }, { user_name: 'bob', away: 'lunch' }],
        },
      },
      ['*** in #lobby: alice, bob (away)'],
    ],
    [
      'whois',
      {
        type: 'whois',
        payload: {
          user_name: 'bob',
          registered: true,
          away: 'lunch',
          idle_ms: 125_000,
          connected_ts: TS,
          rooms: ['lobby', 'dev'],
        },
      },
      [
        '*** bob: registered nick',
        '*** bob: away: lunch',
        '*** bob: idle 2m 5s, connected since 12:03 UTC',
        '*** bob: in #lobby, #dev (rooms you share)',
      ],
    ],
    [
      'a leave',
      { type: 'user_left', payload: { room_id: 'lobby', user_name: 'bob', reason: 'quit' } },
      ['*** bob left #lobby'],
    ],
    [
      'a leave with a reason',
      { type: 'user_left', payload: { room_id: 'lobby', user_name: 'bob', reason: 'slow_consumer' } },
      ['*** bob left #lobby (slow_consumer)'],
    ],
    [
      'a rename',
      { type: 'nick_changed', payload: { room_id: 'lobby', old_name: 'alice', user_name: 'al' } },
      ['*** alice is now known as al'],
    ],
    [
      'your own rename',
      { type: 'nick_changed', payload: { old_name: 'alice', user_name: 'al' } },
      ['*** you are now known as al'],
    ],
    [
      'an error',
      { type: 'error', payload: { code: 'nick_taken', message: 'bob is online already' } },
      ['*** error: bob is online already'],
    ],
    [
      'a users list',
      { type: 'users', payload: { room_id: 'dev', users: ['a', 'b'] } },
      ['*** in #dev: a, b'],
    ],
    ['a pong, which shows nothing', { type: 'pong', payload: { ts: 1, server_ts: 2 } }, []],
    [
      'history, as live messages',
      {
        type: 'history',
        payload: {
          room_id: 'lobby',
          messages: [msg(), msg({ seq: 2, user_name: 'bob', message: 'yo' })],
          has_more: false,
        },
      },
      ['[12:03] #lobby <alice> hello', '[12:03] #lobby <bob> yo'],
    ],
  ])('renders %s', (_name, message, expected) => {
    expect(renderLines(message)).toEqual(expected);
  });

  it('times are UTC HH:MM', () => {
    expect(clock(Date.UTC(2026, 5, 1, 0, 7))).toBe('00:07');
    expect(clock(Date.UTC(2026, 5, 1, 23, 59, 59))).toBe('23:59');
  });

  it('a DM reads as received, and as sent for its sender', () => {
    const dm = { id: 'd1', ts: TS, from: 'bob', to: 'alice', message: 'hi' };
    expect(dmLines(dm, 'alice')).toEqual(['[12:03] *dm* <bob> hi']);
    expect(dmLines(dm, 'bob')).toEqual(['[12:03] *dm to alice* <bob> hi']);
  });

  it('never lets a control character or escape sequence from a peer through', () => {
    const evil = 'a\x1b[2J\x1b]0;pwned\x07b\x07c\x00d\x9b31me\u202ef\rg';
    const text = [
      ...renderLines({ type: 'message', payload: msg({ message: evil, user_name: 'x\x1b[31my' }) }),
      ...renderLines({ type: 'error', payload: { code: 'bad_nick', message: evil } }),
      ...dmLines({ id: 'd', ts: TS, from: evil, to: 'me', message: evil }, 'me'),
    ].join('');
    expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(text).toContain('<xy> abcdefg');
  });

  it('ends every line with CRLF', () => {
    expect(toWire(['a', 'b'])).toBe('a\r\nb\r\n');
    expect(toWire([])).toBe('');
  });

  it('renders an event once, however many TCP members it goes to', () => {
    const out = outbound({ type: 'message', payload: msg() });
    const first = tcpLinesOf(out);
    expect(tcpLinesOf(out)).toBe(first);
    expect(first.toString()).toBe('[12:03] #lobby <alice> hello\r\n');
  });
});
