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

/**
 * A ban as IRC shows it (`nick!user@host`): a nick ban `spam` is `spam!*@*`, an address pattern
 * `*@203.0.113.*` and a CIDR block `203.0.113.0/24` are `*!*@...`.
 */
export function ircBanMask(mask: string): string {
  if (mask.includes('@')) return `*!${sanitizeText(mask)}`;
  if (mask.includes('/')) return `*!*@${sanitizeText(mask)}`;
  return `${ircNick(mask)}!*@*`;
}

/**
 * A ban mask typed in IRC (`MODE #c +b mask`) as the server's ban forms, or undefined when it is
 * none of them. `nick`, `nick!*@*` and `nick!*` are a nick ban; `*!*@addr` (or `*@addr`) an
 * address pattern or, with a `/`, a CIDR block. An ident or a host name cannot be matched (the
 * door shows every user as `~u@chat`), so a mask naming one is refused rather than silently
 * matching nobody.
 */
export function chatBanMask(mask: string): string | undefined {
  const bang = mask.indexOf('!');
  const at = mask.indexOf('@');
  if (bang === -1 && at === -1) return mask;
  const nick = bang === -1 ? '*' : mask.slice(0, bang);
  const user = bang === -1 ? mask.slice(0, at) : mask.slice(bang + 1, at === -1 ? undefined : at);
  const host = at === -1 ? '*' : mask.slice(at + 1);
  if (nick !== '*' && (user === '*' || user === '') && host === '*') return nick;
  if (nick === '*' && user === '*' && host !== '*') return host.includes('/') ? host : `*@${host}`;
  return undefined;
}
