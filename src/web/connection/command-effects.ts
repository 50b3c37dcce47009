import { commandAction, helpLines, type Command } from '../command-parser.js';
import { addNotice, ensureConv, removeConv, roomKey, selectConv } from '../state/model.js';
import type { Conv } from '../state/types.js';
import type { Client } from './client.js';

/**
 * What each slash command does in the page. The parsing is shared (../commands.ts); the effect
 * is the page's own: requests through the client, lines in the conversation on screen.
 * Returns false when a request could not be sent.
 */
export function runCommand(client: Client, cmd: Command, current: Conv | undefined): boolean {
  const state = client.state;
  const roomOf = (explicit: string | undefined) =>
    explicit ?? (current?.kind === 'room' ? current.id : undefined);
  switch (cmd.name) {
    case 'join':
      return client.joinRoom(cmd.room);
    case 'leave': {
      if (cmd.room === undefined && current?.kind === 'dm') {
        removeConv(state, current.key);
        return true;
      }
      const room = roomOf(cmd.room);
      if (!room) {
        addNotice(state, current, '/leave: which room?', 'error');
        return true;
      }
      const sent = client.send('leave', { room_id: room }, { roomId: room });
      if (sent) removeConv(state, roomKey(room));
      return Boolean(sent);
    }
    case 'users': {
      const room = roomOf(cmd.room);
      if (room) return Boolean(client.send('users', { room_id: room }, { roomId: room }));
      addNotice(state, current, '/users: this is not a room; try /users <room>', 'error');
      return true;
    }
    case 'rooms':
      if (cmd.more && !state.serverRoomsCursor) {
        addNotice(state, current, 'no more rooms to list; /rooms [filter] starts again', 'info');
        return true;
      }
      return cmd.more
        ? client.moreRooms({ announce: true })
        : client.listRooms(cmd.filter ?? '', { announce: true });
    case 'msg': {
      selectConv(state, ensureConv(state, 'dm', cmd.to).key);
      return Boolean(client.send('dm', { to: cmd.to, message: cmd.text }, { dmTo: cmd.to }));
    }
    case 'nick':
      return Boolean(client.send('nick', { user_name: cmd.nick }));
    case 'register':
      return Boolean(client.send('register', { password: cmd.password }, { password: cmd.password }));
    case 'show':
      addNotice(state, current, 'messages are shown whole here; /show is for line clients (nc, telnet)');
      return true;
    case 'help':
      addNotice(state, current, helpLines(cmd.topic).join('\n'), 'info', { mono: true });
      return true;
    case 'quit':
      client.quit();
      return true;
    default: {
      // Topics and moderation: the shared table says which request; the answer comes back as events.
      const action = commandAction(cmd, { room: roomOf(undefined) });
      if (action.kind === 'refused') {
        addNotice(state, current, action.message, 'error');
        return true;
      }
      if (action.kind !== 'request') return true;
      const { type, payload } = action.request;
      const roomId = 'room_id' in (payload ?? {}) ? (payload as { room_id: string }).room_id : undefined;
      return Boolean(client.send(type, payload as never, roomId !== undefined ? { roomId } : {}));
    }
  }
}
