import { describe, expect, it } from 'vitest';
import { commandAction, parseLine, type Command } from '../../src/protocol/commands.js';

/** The moderation rows of the one command table: what each line sends, where the client is. */

function requestOf(line: string, where: { room?: string } = { room: 'dev' }): unknown {
  const parsed = parseLine(line);
  if (parsed.kind !== 'command') throw new Error(`${line}: ${JSON.stringify(parsed)}`);
  const action = commandAction(parsed.command as Command, where);
  return action.kind === 'request' ? action.request : action;
}

describe('moderation commands', () => {
  it('send the request for the current room, or the #room named first', () => {
    expect(requestOf('/topic')).toEqual({ type: 'topic', payload: { room_id: 'dev' } });
    expect(requestOf('/topic  ship it  friday ')).toEqual({
      type: 'topic',
      payload: { room_id: 'dev', topic: 'ship it  friday' },
    });
    expect(requestOf('/topic #ops -')).toEqual({ type: 'topic', payload: { room_id: 'ops', topic: '' } });
    expect(requestOf('/op bob')).toEqual({
      type: 'role',
      payload: { room_id: 'dev', user_name: 'bob', role: 'operator' },
    });
    expect(requestOf('/deop #ops bob')).toEqual({
      type: 'role',
      payload: { room_id: 'ops', user_name: 'bob', role: 'none' },
    });
    expect(requestOf('/voice bob')).toMatchObject({ payload: { role: 'voice' } });
    expect(requestOf('/devoice bob')).toMatchObject({ payload: { role: 'none' } });
    expect(requestOf('/kick bob spamming the room')).toEqual({
      type: 'kick',
      payload: { room_id: 'dev', user_name: 'bob', reason: 'spamming the room' },
    });
    expect(requestOf('/ban')).toEqual({ type: 'ban', payload: { room_id: 'dev' } });
    expect(requestOf('/ban *@203.0.113.*')).toEqual({
      type: 'ban',
      payload: { room_id: 'dev', mask: '*@203.0.113.*' },
    });
    expect(requestOf('/unban #ops evan')).toEqual({
      type: 'unban',
      payload: { room_id: 'ops', mask: 'evan' },
    });
    expect(requestOf('/invite carol #ops')).toEqual({
      type: 'invite',
      payload: { room_id: 'ops', user_name: 'carol' },
    });
    expect(requestOf('/mode')).toEqual({ type: 'mode', payload: { room_id: 'dev' } });
    expect(requestOf('/mode +t -m')).toEqual({ type: 'mode', payload: { room_id: 'dev', modes: '+t-m' } });
    expect(requestOf('/kill bob go away', {})).toEqual({
      type: 'kill',
      payload: { user_name: 'bob', reason: 'go away' },
    });
  });

  it('refuse bad arguments as they are typed, and a room command with no room', () => {
    expect(parseLine('/mode +x')).toMatchObject({ kind: 'error' });
    expect(parseLine('/op')).toMatchObject({ kind: 'error' });
    expect(parseLine('/kick')).toMatchObject({ kind: 'error' });
    expect(parseLine('/unban')).toMatchObject({ kind: 'error' });
    expect(requestOf('/kick bob', {})).toMatchObject({ kind: 'refused', reason: 'no_room' });
  });
});
