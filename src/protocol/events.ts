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
  /** `action` for `/me` in a DM (shown `* alice waves`); absent for plain speech. */
  kind?: 'action';
}

/** One member as `users` details them (the `users` list stays plain nicks for older clients). */
export interface UserInfo {
  user_name: string;
  /** The away message, while the user is away. */
  away?: string;
}

/** One room as listed by `rooms`. */
export interface RoomSummary {
  room_id: string;
  room_name: string;
  members: number;
}

/** A room's topic: its text, who set it and when (ms since the epoch). */
export interface RoomTopic {
  text: string;
  set_by: string;
  set_ts: number;
}

/** A room's modes: `t` topic lock, `i` invite-only, `m` moderated. */
export interface RoomModes {
  topic_locked: boolean;
  invite_only: boolean;
  moderated: boolean;
}

/**
 * Standing in a room. `owner`: the registered nick that created it (grants operator status);
 * `operator`: kicks, bans, modes, invites, voice; `voice`: may speak in a moderated room.
 */
export type RoomRole = 'owner' | 'operator' | 'voice';

/** One ban of a room: a nick, an address pattern (`*@203.0.113.*`) or a CIDR block. */
export interface BanEntry {
  mask: string;
  set_by: string;
  set_ts: number;
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
  joined: {
    room_id: string;
    room_name: string;
    members: string[];
    last_seq: number;
    /**
     * Names this history of the room: seqs count within one epoch. Keep it with the seqs you
     * hold and send it back in `join` with `since_seq`; a different one means the room's history
     * was made anew (drop what you hold for it). Always sent by this server; optional for clients
     * of servers older than it.
     */
    epoch?: string;
    /** The room's topic; absent when it has none. */
    topic?: RoomTopic;
    /** Roles of the members listed in `members` that have one (a member absent here has none). */
    roles?: Record<string, RoomRole>;
    modes?: RoomModes;
  };
  history: {
    room_id: string;
    messages: ChatMessage[];
    has_more: boolean;
    /** Present on a `since_seq` replay: false when retention dropped part of the gap. */
    recovered?: boolean;
  };
  /**
   * `role`: the standing the joiner has in the room (an operator coming back), when it has one.
   * `account`: the joiner's account (its registered nick, proved by password), when logged in.
   */
  user_joined: { room_id: string; user_name: string; role?: RoomRole; account?: string };
  /**
   * A member logged in (`account` set: it registered its nick) or out (no `account`: it renamed
   * away from its registered nick). To the rooms it is in, itself apart.
   */
  user_account: { room_id: string; user_name: string; account?: string };
  user_left: {
    room_id: string;
    user_name: string;
    /**
     * Why: on a quit (`quit: true`) the quitter's own words, `quit` when it gave none,
     * `connection lost` for a dropped link, or the server's close code (`slow_consumer`, ...).
     */
    reason?: string;
    /** True when the user left the server (every room at once), not only this room. */
    quit?: boolean;
    /** Set when an operator removed the member (`kick`, or a ban that matched it); `reason` says why. */
    kicked_by?: string;
    /**
     * With `quit`: the server operator whose `kill` ended the user's connection (`reason` is then
     * `killed by <op>: <why>`). Only the server sets it: quit words that merely read like a kill have none.
     */
    killed_by?: string;
  };
  /**
   * A user went away (`message` set) or came back (no `message`). With `room_id`: the
   * announcement to a room the user is in. Without: the answer to your own `away` request, or
   * (after a `dm` to an away user) their away message.
   */
  user_away: { room_id?: string; user_name: string; message?: string };
  /** Who a nick is; `rooms` lists only the rooms the asker shares with them. */
  whois: {
    user_name: string;
    registered: boolean;
    away?: string;
    /** Ms since their last message (room or DM), or since they connected. */
    idle_ms: number;
    /** When their connection was made, ms since the epoch. */
    connected_ts: number;
    rooms: string[];
    /** The username and real name their client gave (IRC's USER); absent for other doors. */
    username?: string;
    real_name?: string;
    /** Set (true) when they asked to be invisible (IRC's user mode +i): WHO masks skip them. */
    invisible?: true;
  };
  /**
   * `role`, in a room's copy: the member's role there under the new nick (null: none). Roles
   * given for good are a registered nick's, so a rename away from it leaves them behind.
   */
  nick_changed: { room_id?: string; old_name: string; user_name: string; role?: RoomRole | null };
  message: ChatMessage;
  dm: DirectMessage;
  /** One page of the room list, busiest first; `next_cursor` asks for the next (see docs/protocol.md). */
  rooms: { rooms: RoomSummary[]; has_more: boolean; next_cursor?: string };
  users: {
    room_id: string;
    users: string[];
    /** The same members with details (away); absent from older servers. */
    members?: UserInfo[];
    /** Roles of the users listed that have one (as in `joined`). */
    roles?: Record<string, RoomRole>;
  };
  pong: { ts: number; server_ts: number };
  registered: { user_name: string };
  shutdown: { reason: string; message: string };
  /** Reply to `topic` without text: the room's topic (`null` when it has none). */
  topic: { room_id: string; topic: RoomTopic | null };
  /** A member's role changed (`role: null`: none now); to every member. */
  role_changed: { room_id: string; user_name: string; role: RoomRole | null; by: string };
  /** The room's modes changed; to every member. */
  modes_changed: { room_id: string; modes: RoomModes; by: string };
  /** A ban was added (`banned: true`) or lifted; to every member. */
  ban_changed: { room_id: string; mask: string; banned: boolean; by: string };
  /** Reply to `ban` without a mask: the room's bans. */
  bans: { room_id: string; bans: BanEntry[] };
  /** Reply to `mode` without modes: modes, owner and the nicks with a standing role (online or not). */
  modes: {
    room_id: string;
    modes: RoomModes;
    owner: string | null;
    operators: string[];
    voiced: string[];
    /** When the room was created (ms since the epoch): IRC's 329 RPL_CREATIONTIME. */
    created_ts: number;
  };
  /** To the invited user, (as the reply) to the operator who invited, and to the room's other operators. */
  invited: { room_id: string; user_name: string; by: string };
  /** Reply to `kill`: the user was disconnected. */
  killed: { user_name: string; by: string; reason: string };
  error: ProtocolError;
}

/** Every event type the server sends. */
export type ServerEventType = keyof ServerEventPayloads;

/** A server event: a discriminated union over `type`. */
export type ServerMessage = {
  [T in ServerEventType]: { type: T; payload: ServerEventPayloads[T]; ref?: string | number };
}[ServerEventType];
