/**
 * Stable, snake_case error codes. Clients switch on these; never rename one, only add.
 * The human text travels separately in `error.payload.message`.
 */
export const ERROR_CODES = {
  bad_json: 'The frame is not valid JSON.',
  bad_frame: 'A frame must be a JSON object {"type": string, "payload": object|null}.',
  unknown_type: 'The frame type is not one the server knows.',
  invalid_payload: 'A field is missing or has the wrong type.',
  frame_too_large: 'The frame is larger than the server accepts.',
  message_too_long: 'The message is longer than the server accepts.',
  empty_message: 'The message is empty.',
  too_many_lines: 'The message has more lines than the server accepts (blank runs count as one).',
  bad_room_id: 'Room ids are 1-64 letters, digits, "_", "-" or ".".',
  bad_room_name: 'Room names are 1-100 printable characters.',
  bad_nick: 'Nicks are 1-32 printable characters without spaces or control characters.',
  not_identified: 'Identify first: send hello {user_name} (or join with user_name).',
  already_identified: 'This connection already has a nick; use nick to rename.',
  nick_taken: 'Somebody else is using that nick.',
  nick_registered: 'That nick is registered; give its password.',
  bad_password: 'Passwords are 8-256 characters.',
  bad_status: 'Away messages and quit reasons are one line of at most 300 characters.',
  no_such_room: 'There is no room with that id.',
  room_exists: 'A room with that id exists already.',
  not_in_room: 'You are not in that room.',
  already_in_room: 'You are in that room already.',
  no_such_user: 'Nobody with that nick is online.',
  rate_limited:
    'Too many requests (messages, reads, joins and nick changes, new rooms or password attempts); slow down.',
  too_many_rooms: 'You are in as many rooms as the server allows.',
  room_full: 'The room has as many members as the server allows.',
  server_rooms_full: 'The server holds as many rooms as it allows; join an existing room.',
  message_refused: 'A filter refused the message.',
  server_full: 'The server has as many connections as it allows.',
  shutting_down: 'The server is shutting down.',
  internal_error: 'The server failed to handle the request; nothing was changed.',
  unavailable:
    'The shared store of a cluster (Redis) cannot be reached; retry after retry_after_ms (a message retried with the same client_msg_id is stored once).',
  not_operator: 'Only an operator of the room (or a server operator) may do that.',
  not_owner: 'Only the owner of the room (or a server operator) may grant or remove operator status.',
  not_server_operator: 'Only a server operator may do that.',
  banned: 'You are banned from that room.',
  invite_only: 'That room is invite-only; an operator must invite you first.',
  moderated: 'That room is moderated: only operators and voiced users may speak.',
  topic_locked: 'The topic of that room is locked (+t): only operators may change it.',
  not_registered: 'Operator status goes only to registered nicks.',
  protected_user:
    'The owner of a room and server operators cannot be kicked, banned or demoted by an operator.',
  bad_mask:
    'A ban is a nick, an address pattern such as *@203.0.113.* or a CIDR block such as 203.0.113.0/24.',
  bad_modes: 'Modes are +/- followed by the letters t (topic lock), i (invite-only) and m (moderated).',
  bad_topic: 'A topic is one line of at most 390 printable characters.',
  list_full: 'The room holds as many bans (or operators and voiced nicks) as the server allows.',
  killed: 'A server operator disconnected you.',
} as const;

/** One of the stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error ready to be sent: a code, human text, and optional extra fields. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
}

/** Builds a ProtocolError, defaulting the text to the code's standard description. */
export function protocolError(
  code: ErrorCode,
  message?: string,
  extra?: { retry_after_ms?: number },
): ProtocolError {
  return { code, message: message ?? ERROR_CODES[code], ...extra };
}

/** Thrown inside request handlers to answer the request with an error; never escapes the hub. */
export class RequestError extends Error {
  readonly error: ProtocolError;
  constructor(code: ErrorCode, message?: string, extra?: { retry_after_ms?: number }) {
    super(message ?? ERROR_CODES[code]);
    this.error = protocolError(code, message, extra);
  }
}
