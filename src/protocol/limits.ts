/** Protocol-level limits shared by server, clients and every transport. */
export const MAX_MESSAGE_CHARS = 4000;
/**
 * Lines in one message (after runs of blank lines are folded into one): a newline flood must
 * not become thousands of lines on every line client's screen.
 */
export const MAX_MESSAGE_LINES = 50;
export const MAX_NICK_CHARS = 32;
export const MAX_ROOM_ID_CHARS = 64;
export const MAX_ROOM_NAME_CHARS = 100;
export const HISTORY_ON_JOIN = 50;
export const MAX_HISTORY_PAGE = 200;
/** Rooms in one `rooms` reply when the request names no limit, and at most (a page also stops at the reply budget). */
export const DEFAULT_ROOMS_PAGE = 50;
export const MAX_ROOMS_PAGE = 500;
export const DEFAULT_ROOM = 'lobby';
/** Room ids: letters, digits, `_ - .`; 1-64 characters. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Characters in an away message or a quit reason (one line, like a topic). */
export const MAX_STATUS_CHARS = 300;
/** Characters in a room topic (IRC's common TOPICLEN). */
export const MAX_TOPIC_CHARS = 390;
/** Characters in a kick or kill reason. */
export const MAX_REASON_CHARS = 200;
/** Bans one room keeps; a full list refuses more with `list_full`. */
export const MAX_BANS_PER_ROOM = 200;
/** Operators and voiced nicks one room keeps together. */
export const MAX_ROLES_PER_ROOM = 500;
