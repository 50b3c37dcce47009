import type { ChatMessage, ServerEventPayloads, ServerMessage } from '../../src/protocol/events.js';

/** Builds a server event with the given type and payload. */
export function ev<T extends keyof ServerEventPayloads>(
  type: T,
  payload: ServerEventPayloads[T],
  ref?: string | number,
): ServerMessage {
  return (ref === undefined ? { type, payload } : { type, payload, ref }) as ServerMessage;
}

/** A chat message in `room` with `seq` (text and sender default to something readable). */
export function msg(
  room: string,
  seq: number,
  user = 'bob',
  text = `message ${seq}`,
  extra: Partial<ChatMessage> = {},
): ChatMessage {
  return {
    room_id: room,
    seq,
    id: `${room}-${seq}`,
    ts: 1_700_000_000_000 + seq * 1000,
    user_name: user,
    message: text,
    ...extra,
  };
}

/** A `welcome` for `nick`. */
export function welcome(nick: string): ServerMessage {
  return ev('welcome', {
    user_name: nick,
    user_id: nick,
    session_id: 's1',
    server_version: 'test',
    default_room: 'lobby',
    registered: false,
    limits: { max_message_chars: 4000, max_nick_chars: 32, max_history_page: 200 },
  });
}

/** A `joined` for `room` with members. */
export function joined(room: string, members: string[] = ['alice'], lastSeq = 0): ServerMessage {
  return ev('joined', { room_id: room, room_name: room, members, last_seq: lastSeq });
}
