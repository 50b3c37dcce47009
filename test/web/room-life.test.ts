/**
 * Issue 14 in the browser page's state (src/web/state): actions, quits with reasons, away
 * notices, whois, and rooms compared without case.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent } from '../../src/web/state/events.js';
import { createState, roomKey } from '../../src/web/state/model.js';
import type { State } from '../../src/web/state/types.js';

function inLobby(): State {
  const state = createState();
  applyEvent(state, { type: 'welcome', payload: { user_name: 'alice', default_room: 'lobby' } });
  applyEvent(state, {
    type: 'joined',
    payload: { room_id: 'lobby', room_name: 'lobby', members: ['alice', 'bob'], last_seq: 0 },
  });
  applyEvent(state, { type: 'history', payload: { room_id: 'lobby', messages: [], has_more: false } });
  return state;
}
const lobbyTexts = (state: State): string[] =>
  state.convs
    .get(roomKey('lobby'))!
    .items.map((i) => (i.kind === 'notice' ? `* ${i.text}` : `${i.nick}: ${i.text}`));

describe('the browser page state', () => {
  it('a rename keeps the role with the nick, or takes the one the server names', () => {
    const state = inLobby();
    const lobby = state.convs.get(roomKey('lobby'))!;
    applyEvent(state, {
      type: 'role_changed',
      payload: { room_id: 'lobby', user_name: 'bob', role: 'operator', by: 'alice' },
    });
    applyEvent(state, {
      type: 'nick_changed',
      payload: { room_id: 'lobby', old_name: 'bob', user_name: 'robert' },
    });
    expect(lobby.roles).toEqual({ robert: 'operator' });
    applyEvent(state, {
      type: 'nick_changed',
      payload: { room_id: 'lobby', old_name: 'robert', user_name: 'rob', role: null },
    });
    expect(lobby.roles).toEqual({});
    expect([...lobby.members]).toContain('rob');
  });

  it('marks an action', () => {
    const state = inLobby();
    applyEvent(state, {
      type: 'message',
      payload: {
        room_id: 'lobby',
        seq: 1,
        id: 'm1',
        ts: 1,
        user_name: 'bob',
        message: 'waves',
        kind: 'action',
      },
    });
    expect(state.convs.get(roomKey('lobby'))!.items.at(-1)).toMatchObject({
      text: 'waves',
      msgKind: 'action',
    });
  });

  it('says a quit with its reason, and away notices', () => {
    const state = inLobby();
    applyEvent(state, {
      type: 'user_away',
      payload: { room_id: 'lobby', user_name: 'bob', message: 'lunch' },
    });
    applyEvent(state, {
      type: 'user_left',
      payload: { room_id: 'lobby', user_name: 'bob', reason: 'connection lost', quit: true },
    });
    expect(lobbyTexts(state)).toEqual(
      expect.arrayContaining(['* bob is away: lunch', '* bob quit (connection lost)']),
    );
  });

  it('lists whois', () => {
    const state = inLobby();
    applyEvent(state, {
      type: 'whois',
      payload: { user_name: 'bob', registered: false, idle_ms: 3_000, connected_ts: 0, rooms: ['lobby'] },
    });
    expect(lobbyTexts(state).at(-1)).toMatch(
      /bob: not registered\nidle 3 s.*\nin #lobby \(rooms you share\)/s,
    );
  });

  it('keys rooms without case and shows the server spelling once joined', () => {
    const state = inLobby();
    applyEvent(state, {
      type: 'joined',
      payload: { room_id: 'Dev', room_name: 'Dev', members: ['alice'], last_seq: 0 },
    });
    expect(state.convs.get(roomKey('DEV'))).toMatchObject({ id: 'Dev' });
    expect([...state.convs.keys()].filter((k) => k.toLowerCase() === '#dev')).toHaveLength(1);
  });
});
