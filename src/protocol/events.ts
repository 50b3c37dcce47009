import type { ProtocolError } from './errors.js';

/** A chat message as stored and as delivered to every member of its room. */
export interface ChatMessage {
  room_id: string;
  /** Per-room sequence number: starts at 1, increases by exactly one per message, never reused. */
  seq: number;
  /** Globally unique message id. */
  id: string;
  /** Server time of acceptance, milliseconds since the epoch. */
  ts: number;
  user_name: string;
  message: string;
  /** The sender's idempotency key, when it gave one. */
  client_msg_id?: string;
  /**
   * What the line is when it is not plain speech (absent for a plain message): `action` is
   * `/me waves` (shown `* alice waves`), `topic` a topic change whose text is the new topic.
   * Clients that do not know a kind show the line as a message from `user_name`.
   */
  kind?: MessageKind;
}

/** The kinds of room line besides plain speech; see {@link ChatMessage.kind}. */
export type MessageKind = 'action' | 'topic';

/** A direct message between two nicks. */
export interface DirectMessage {
  id: string;
  ts: number;
  from: string;
  to: string;
  message: string;
}

/** One room as listed by `rooms`. */
export interface RoomSummary {
  room_id: string;
  room_name: string;
  members: number;
}

/** Payloads of every event the server sends, by type. */
export interface ServerEventPayloads {
  welcome: {
    user_name: string;
    user_id: string;
    session_id: string;
    server_version: string;
    default_room: string;
    registered: boolean;
    /** Secret; send it in `hello` after a reconnect to take the nick over from the old connection. */
    resume_token?: string;
    limits: { max_message_chars: number; max_nick_chars: number; max_history_page: number };
  };
  room_created: { room_id: string; room_name: string; created_by: string };
  joined: { room_id: string; room_name: string; members: string[]; last_seq: number };
  history: {
    room_id: string;
    messages: ChatMessage[];
    has_more: boolean;
    /** Present on a `since_seq` replay: false when retention dropped part of the gap. */
    recovered?: boolean;
  };
  user_joined: { room_id: string; user_name: string };
  user_left: { room_id: string; user_name: string; reason?: string };
  nick_changed: { room_id?: string; old_name: string; user_name: string };
  message: ChatMessage;
  dm: DirectMessage;
  /** One page of the room list, busiest first; `next_cursor` asks for the next (see docs/protocol.md). */
  rooms: { rooms: RoomSummary[]; has_more: boolean; next_cursor?: string };
  users: { room_id: string; users: string[] };
  pong: { ts: number; server_ts: number };
  registered: { user_name: string };
  shutdown: { reason: string; message: string };
  error: ProtocolError;
}

/** Every event type the server sends. */
export type ServerEventType = keyof ServerEventPayloads;

/** A server event: a discriminated union over `type`. */
export type ServerMessage = {
  [T in ServerEventType]: { type: T; payload: ServerEventPayloads[T]; ref?: string | number };
}[ServerEventType];
