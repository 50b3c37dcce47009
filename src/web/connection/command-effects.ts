import { commandAction, helpLines, type Command, type CommandRequest } from '../command-parser.js';
import { addNotice, ensureConv, removeConv, roomKey, selectConv } from '../state/model.js';
import type { Conv } from '../state/types.js';
import type { Client } from './client.js';

/**
 * What each slash command does in the page. What it asks the server for comes from the shared
 * table (`commandAction`, src/protocol/commands.ts), as in the TUI and the TCP door; the page
 * adds its own part: its conversations (a join switches to a room already joined, /leave closes
 * a DM, /msg opens one), its room list, and the lines it shows. Returns false when a request
 * could not be sent.
 */
export function runCommand(client: Client, cmd: Command, current: Conv | undefined): boolean {
  const state = client.state;
  switch (cmd.name) {
    case 'join':
      return client.joinRoom(cmd.room);
    case 'leave':
      if (cmd.room === undefined && current?.kind === 'dm') {
        removeConv(state, current.key);
        return true;
      }
      break;
    case 'msg':
      selectConv(state, ensureConv(state, 'dm', cmd.to).key);
      break;
    case 'show':
      addNotice(state, current, 'messages are shown whole here; /show is for line clients (nc, telnet)');
      return true;
    // A DM may be an action too, which the shared table (rooms only) does not say.
    case 'me': {
      if (!current) {
        addNotice(state, current, '/me: join a room first', 'error');
        return true;
      }
      return Boolean(
        current.kind === 'room'
          ? client.send(
              'message',
              { room_id: current.id, message: cmd.text, kind: 'action' },
              { roomId: current.id },
            )
          : client.send('dm', { to: current.id, message: cmd.text, kind: 'action' }, { dmTo: current.id }),
      );
    }
    default:
      break;
  }
  const cursor = state.serverRoomsCursor;
  const action = commandAction(cmd, {
    room: current?.kind === 'room' ? current.id : undefined,
    roomsNext: cursor ? { cursor, filter: state.serverRoomsFilter || undefined } : undefined,
  });
  switch (action.kind) {
    case 'refused':
      if (action.reason === 'no_more_rooms') addNotice(state, current, action.message, 'info');
      else if (cmd.name === 'leave') addNotice(state, current, '/leave: which room?', 'error');
      else if (cmd.name === 'users')
        addNotice(state, current, '/users: this is not a room; try /users <room>', 'error');
      else addNotice(state, current, action.message, 'error');
      return true;
    case 'help':
      addNotice(state, current, helpLines(action.topic).join('\n'), 'info', { mono: true });
      return true;
    case 'quit':
      client.quit(action.reason);
      return true;
    case 'request':
      return sendRequest(client, action.request);
  }
}

/** Sends a command's request with what the page keeps about it (which conversation it is for). */
function sendRequest(client: Client, request: CommandRequest): boolean {
  switch (request.type) {
    case 'leave': {
      const room = request.payload.room_id;
      const sent = client.send('leave', request.payload, { roomId: room });
      if (sent) removeConv(client.state, roomKey(room));
      return Boolean(sent);
    }
    case 'users':
      return Boolean(client.send('users', request.payload, { roomId: request.payload.room_id }));
    case 'rooms':
      // A further page is appended to the listing it continues; a first page starts a new one.
      return request.payload?.cursor !== undefined
        ? client.moreRooms({ announce: true })
        : client.listRooms(request.payload?.filter ?? '', { announce: true });
    case 'dm':
      return Boolean(client.send('dm', request.payload, { dmTo: request.payload.to }));
    case 'register':
      return Boolean(client.send('register', request.payload, { password: request.payload.password }));
    case 'nick':
      return Boolean(client.send('nick', request.payload));
    default: {
      // /join and /show are the page's own above; anything else (topics, moderation, away...)
      // goes as the table says, remembered against its room so the answer is shown there.
      const { payload } = request;
      const roomId =
        payload && 'room_id' in payload && typeof payload.room_id === 'string' ? payload.room_id : undefined;
      return Boolean(client.send(request.type, payload as never, roomId !== undefined ? { roomId } : {}));
    }
  }
}
