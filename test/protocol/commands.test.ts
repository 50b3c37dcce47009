import { describe, expect, it } from 'vitest';
import { helpLines, parseLine } from '../../src/protocol/commands.js';

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
  ])('%j', (line, expected) => {
    expect(parseLine(line)).toEqual(expected);
  });

  it.each(['/join', '/join a b', '/msg bob', '/msg', '/nick', '/rooms a b', '/register'])('%j is a usage error', (line) => {
    const r = parseLine(line);
    expect(r.kind).toBe('error');
  });

  it('names an unknown command and points at /help', () => {
    expect(parseLine('/frobnicate now')).toEqual({ kind: 'error', message: 'unknown command /frobnicate; /help lists the commands' });
  });

  it('has a help line for every command', () => {
    expect(helpLines().length).toBeGreaterThanOrEqual(9);
    expect(helpLines('msg')[0]).toContain('/msg <nick> <text>');
  });
});
