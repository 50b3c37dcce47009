import { ROOM_ID_PATTERN } from '../../../protocol/limits.js';
import { sanitizeText } from '../../../protocol/sanitize.js';

/** The user and host part of every chat user's IRC source (`nick!~u@chat`): the door hides addresses. */
export const USER_HOST = '~u@chat';

/**
 * A chat nick as IRC clients can read it. Chat nicks may hold characters IRC gives a meaning
 * (`!`, `@`, `,`, `*`, `?`, `:`, a leading `#`, `&`, `$`); those become `_`, so a line can never
 * be misread. Names that are IRC-safe (every nick made from IRC) stay as they are.
 */
export function ircNick(nick: string): string {
  return sanitizeText(nick)
    .replace(/[\s,*?!@:]/g, '_')
    .replace(/^[#&$]/, '_');
}

/** True when `nick` may be taken from IRC as it is (it reads back the same through {@link ircNick}). */
export function isIrcNick(nick: string): boolean {
  return nick.length > 0 && ircNick(nick) === nick && !/^[0-9-]/.test(nick);
}

/** `nick!~u@chat`. */
export function sourceOf(nick: string): string {
  return `${ircNick(nick)}!${USER_HOST}`;
}

/** The channel of a room: room `lobby` is `#lobby`. */
export function channelOf(roomId: string): string {
  return `#${roomId}`;
}

/** The room id of a channel name, or undefined when it names no possible room. */
export function roomOf(channel: string): string | undefined {
  if (!channel.startsWith('#')) return undefined;
  const id = channel.slice(1);
  return ROOM_ID_PATTERN.test(id) ? id : undefined;
}
