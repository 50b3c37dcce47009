import { ROOM_ID_PATTERN } from '../../../protocol/limits.js';
import { sanitizeText } from '../../../protocol/sanitize.js';

/** Every chat user's IRC host: the door never shows addresses. */
export const HOST = 'chat';

/** The username of a user whose client gave none (another door's): `~`, as for any unverified one. */
export const DEFAULT_USERNAME = '~u';

/** The user and host part of every chat user's IRC source (`nick!~u@chat`): the door hides addresses. */
export const USER_HOST = `${DEFAULT_USERNAME}@${HOST}`;

/** The characters of a username given in USER that are kept (ircds cut it at 9 or 10, with the `~`). */
export const MAX_USERNAME_CHARS = 9;

/** The characters of a real name given in USER that are kept. */
export const MAX_REALNAME_CHARS = 100;

/**
 * A username from USER as WHO and WHOIS show it: letters, digits, `.`, `_` and `-` only (nothing
 * that could read as part of a mask or a line), at most {@link MAX_USERNAME_CHARS}, after a `~`
 * (the server checked no ident for it); `~u` when nothing is left.
 */
export function ircUsername(given: string): string {
  const kept = given.replace(/[^A-Za-z0-9._-]/g, '').slice(0, MAX_USERNAME_CHARS);
  return `~${kept === '' ? 'u' : kept}`;
}

/**
 * A real name from USER: sanitised (no control or escape character reaches another client),
 * blanks folded to one space, at most {@link MAX_REALNAME_CHARS} characters; empty when
 * nothing printable was given.
 */
export function ircRealName(given: string): string {
  const text = sanitizeText(given).replace(/\s+/g, ' ').trim();
  return [...text].slice(0, MAX_REALNAME_CHARS).join('').trim();
}

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
