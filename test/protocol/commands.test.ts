import { describe, expect, it } from 'vitest';
import { commandAction, helpLines, parseLine } from '../../src/protocol/commands.js';

describe('parseLine', () => {
  it.each([
    ['hello there', { kind: 'text', text: 'hello there' }],
    ['//not a command', { kind: 'text', text: '/not a command' }],
    ['/join dev', { kind: 'command', command: { name: 'join', room: 'dev' } }],
    ['/j #dev', { kind: 'command', command: { name: 'join', room: 'dev' } }],
    ['/leave', { kind: 'command', command: { name: 'leave' } }],
    ['/part dev', { kind: 'command', command: { name: 'leave', room: 'dev' } }],
    ['/users', { kind: 'command', command: { name: 'users' } }],
    ['/rooms', { kind: 'command', command: { name: 'rooms' } }],
    ['/msg bob hi  there', { kind: 'command', command: { name: 'msg', to: 'bob', text: 'hi  there' } }],
    ['/nick al', { kind: 'command', command: { name: 'nick', nick: 'al' } }],
    ['/register hunter22!', { kind: 'command', command: { name: 'register', password: 'hunter22!' } }],
    ['/help join', { kind: 'command', command: { name: 'help', topic: 'join' } }],
    ['/QUIT', { kind: 'command', command: { name: 'quit' } }],
    // Arguments that begin like an error's wording are arguments all the same.
    ['/join needs-help', { kind: 'command', command: { name: 'join', room: 'needs-help' } }],
    ['/nick needsleep', { kind: 'command', command: { name: 'nick', nick: 'needsleep' } }],
    ['/leave needs', { kind: 'command', command: { name: 'leave', room: 'needs' } }],
    ['/users takes', { kind: 'command', command: { name: 'users', room: 'takes' } }],
  ])('%j', (line, expected) => {
    expect(parseLine(line)).toEqual(expected);
  });

  it.each(['/join', '/join a b', '/msg bob', '/msg', '/nick', '/rooms a b', '/register'])(
    '%j is a usage error',
    (line) => {
      const r = parseLine(line);
      expect(r.kind).toBe('error');
    },
  );

  it('names an unknown command and points at /help', () => {
    expect(parseLine('/frobnicate now')).toEqual({
      kind: 'error',
      message: 'unknown command /frobnicate; /help lists the commands',
    });
  });

  it('has a help line for every command', () => {
    expect(helpLines().length).toBeGreaterThanOrEqual(9);
    expect(helpLines('msg')[0]).toContain('/msg <nick> <text>');
  });
});

describe('commandAction', () => {
  const action = (line: string, context = {}) => {
    const parsed = parseLine(line);
    if (parsed.kind !== 'command') throw new Error(`not a command: ${line}`);
    return commandAction(parsed.command, context);
  };

  it.each([
    ['/join needs-help', {}, { type: 'join', payload: { room_id: 'needs-help' } }],
    ['/nick needsleep', {}, { type: 'nick', payload: { user_name: 'needsleep' } }],
    ['/leave', { room: 'dev' }, { type: 'leave', payload: { room_id: 'dev' } }],
    ['/leave #ops', { room: 'dev' }, { type: 'leave', payload: { room_id: 'ops' } }],
    ['/users', { room: 'dev' }, { type: 'users', payload: { room_id: 'dev' } }],
    ['/rooms', {}, { type: 'rooms', payload: {} }],
    ['/rooms dev', {}, { type: 'rooms', payload: { filter: 'dev' } }],
    [
      '/rooms more',
      { roomsNext: { cursor: 'c1', filter: 'dev' } },
      { type: 'rooms', payload: { cursor: 'c1', filter: 'dev' } },
    ],
    ['/rooms more', { roomsNext: { cursor: 'c2' } }, { type: 'rooms', payload: { cursor: 'c2' } }],
    ['/msg bob hi there', {}, { type: 'dm', payload: { to: 'bob', message: 'hi there' } }],
    ['/register hunter22!', {}, { type: 'register', payload: { password: 'hunter22!' } }],
    ['/show #dev 41', {}, { type: 'history', payload: { room_id: 'dev', before_seq: 42, limit: 1 } }],
  ])('%j in %j sends %j', (line, context, req) => {
    expect(action(line, context)).toEqual({ kind: 'request', request: req });
  });

  it('refuses a room command with no room to apply to', () => {
    expect(action('/users')).toMatchObject({ kind: 'refused', reason: 'no_room' });
    expect(action('/leave')).toMatchObject({ kind: 'refused', reason: 'no_room' });
  });

  it('refuses /rooms more with no page to continue', () => {
    expect(action('/rooms more')).toMatchObject({ kind: 'refused', reason: 'no_more_rooms' });
  });

  it('leaves help and quit to the client', () => {
    expect(action('/help join')).toEqual({ kind: 'help', topic: 'join' });
    expect(action('/h')).toEqual({ kind: 'help' });
    expect(action('/exit')).toEqual({ kind: 'quit' });
  });
});

describe('issue 14 commands: /me, /away, /whois, /quit reason', () => {
  it.each([
    ['/me waves  hi', { name: 'me', text: 'waves  hi' }],
    ['/away gone fishing', { name: 'away', message: 'gone fishing' }],
    ['/away', { name: 'away' }],
    ['/away   ', { name: 'away' }],
    ['/whois bob', { name: 'whois', nick: 'bob' }],
    ['/quit see you tomorrow', { name: 'quit', reason: 'see you tomorrow' }],
    ['/quit', { name: 'quit' }],
  ])('%j', (line, command) => {
    expect(parseLine(line)).toEqual({ kind: 'command', command });
  });

  it.each(['/me', '/me   ', '/whois', '/whois a b'])('%j is a usage error', (line) => {
    expect(parseLine(line).kind).toBe('error');
  });

  it('sends the request each stands for', () => {
    const act = (line: string, room?: string) => {
      const p = parseLine(line);
      if (p.kind !== 'command') throw new Error(line);
      return commandAction(p.command, { room });
    };
    expect(act('/me waves', 'dev')).toEqual({
      kind: 'request',
      request: { type: 'message', payload: { room_id: 'dev', message: 'waves', kind: 'action' } },
    });
    expect(act('/me waves')).toMatchObject({ kind: 'refused', reason: 'no_room' });
    expect(act('/away lunch')).toEqual({
      kind: 'request',
      request: { type: 'away', payload: { message: 'lunch' } },
    });
    expect(act('/away')).toEqual({ kind: 'request', request: { type: 'away', payload: {} } });
    expect(act('/whois bob')).toEqual({
      kind: 'request',
      request: { type: 'whois', payload: { user_name: 'bob' } },
    });
    expect(act('/quit bye now')).toEqual({ kind: 'quit', reason: 'bye now' });
  });
});
