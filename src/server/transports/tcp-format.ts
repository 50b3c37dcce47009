import type {
  ChatMessage,
  DirectMessage,
  RoomRole,
  ServerEventPayloads,
  ServerMessage,
} from '../../protocol/events.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import type { Outbound } from '../outbound.js';

/**
 * How server events read on a plain TCP line connection (nc, telnet). Pure functions: the
 * transport renders a room event once through {@link tcpLinesOf} and writes the same bytes to
 * every TCP member. Everything that came from a peer passes through `sanitizeText` here, so no
 * control or escape sequence from the network reaches a terminal.
 */

/** Line ending on the wire: CRLF, as telnet (NVT) expects; nc shows it as a plain newline. */
export const EOL = '\r\n';

/** Names shown after `you joined` before the list is cut short. */
const MAX_NAMES_SHOWN = 20;

/** `HH:MM` in UTC: a server cannot know the reader's time zone, and UTC is the same for all. */
export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** A peer-supplied string made safe for one terminal line. */
function clean(text: string): string {
  return sanitizeText(text);
}

/**
 * Lines of one message a line client is shown at most; a longer message shows its first
 * `PREVIEW_LINES - 1` lines and a last line that says how to read the rest (`/show`).
 */
export const PREVIEW_LINES = 10;

/**
 * `[12:03] #lobby <alice> hello`, one line per line of a multi-line message. A message over
 * {@link PREVIEW_LINES} lines is shortened unless `whole` (the answer to `/show`): a line client
 * has no scrollback of its own to skip a wall of text with.
 */
export function messageLines(m: ChatMessage, whole = false): string[] {
  if (m.kind === 'topic') return [topicChangeLine(m)];
  // An action reads `* alice waves`, as IRC clients show /me.
  const who = m.kind === 'action' ? `* ${clean(m.user_name)}` : `<${clean(m.user_name)}>`;
  const prefix = `[${clock(m.ts)}] #${clean(m.room_id)} ${who} `;
  const lines = sanitizeText(m.message, { keepNewlines: true }).split('\n');
  if (whole || lines.length <= PREVIEW_LINES) return lines.map((line) => prefix + line);
  const shown = lines.slice(0, PREVIEW_LINES - 1).map((line) => prefix + line);
  const rest = lines.length - shown.length;
  shown.push(`${prefix}[+${rest} more lines: /show #${clean(m.room_id)} ${m.seq}]`);
  return shown;
}

/** `[12:03] *dm* <bob> hi` as received; the sender's own copy reads `*dm to bob*`. */
export function dmLines(dm: DirectMessage, me: string | undefined): string[] {
  const tag = dm.from === me && dm.to !== me ? `*dm to ${clean(dm.to)}*` : '*dm*';
  const who = dm.kind === 'action' ? `* ${clean(dm.from)}` : `<${clean(dm.from)}>`;
  const prefix = `[${clock(dm.ts)}] ${tag} ${who} `;
  return sanitizeText(dm.message, { keepNewlines: true })
    .split('\n')
    .map((line) => prefix + line);
}

/** `[12:03] #dev -- alice set the topic: ...` (or cleared it: an empty topic). */
export function topicChangeLine(m: ChatMessage): string {
  const what = m.message === '' ? 'cleared the topic' : `set the topic: ${clean(m.message)}`;
  return `[${clock(m.ts)}] #${clean(m.room_id)} -- ${clean(m.user_name)} ${what}`;
}

/** IRC's prefixes: `@` owner or operator, `+` voice. */
export function rolePrefix(role: RoomRole | undefined): string {
  return role === 'owner' || role === 'operator' ? '@' : role === 'voice' ? '+' : '';
}

function nameList(
  names: string[],
  roles: Record<string, RoomRole> = {},
  away: ReadonlySet<string> = new Set(),
): string {
  const shown = names
    .slice(0, MAX_NAMES_SHOWN)
    .map((n) => rolePrefix(roles[n]) + clean(n) + (away.has(n) ? ' (away)' : ''))
    .join(', ');
  return names.length > MAX_NAMES_SHOWN ? `${shown} and ${names.length - MAX_NAMES_SHOWN} more` : shown;
}

/**
 * The lines an event reads as, without line endings; none for events a line client does not
 * show (pong). Events whose wording depends on the reader (`dm`, your own `user_left`) are
 * rendered by the connection with {@link dmLines} / its own text instead.
 */
export function renderLines(message: ServerMessage): string[] {
  switch (message.type) {
    case 'message':
      return messageLines(message.payload);
    case 'history': {
      const lines = message.payload.messages.flatMap((m) => messageLines(m));
      if (message.payload.recovered === false)
        lines.unshift(
          `*** older messages of #${clean(message.payload.room_id)} are no longer kept; some were missed`,
        );
      return lines;
    }
    case 'user_joined':
      return [`*** ${clean(message.payload.user_name)} joined #${clean(message.payload.room_id)}`];
    case 'user_left': {
      const { reason, kicked_by } = message.payload;
      if (kicked_by !== undefined)
        return [
          `#${clean(message.payload.room_id)} -- ${clean(message.payload.user_name)} was kicked by ${clean(kicked_by)} (${clean(reason ?? 'kicked')})`,
        ];
      const why = reason && reason !== 'quit' ? ` (${clean(reason)})` : '';
      // A quit is the user leaving the server: said once per room it reaches (the line session
      // shows the first only), without a room, as IRC shows a QUIT.
      if (message.payload.quit) return [`*** ${clean(message.payload.user_name)} quit${why}`];
      return [`*** ${clean(message.payload.user_name)} left #${clean(message.payload.room_id)}${why}`];
    }
    case 'user_away':
      return [awayLine(message.payload.user_name, message.payload.message)];
    case 'whois':
      return whoisLines(message.payload);
    case 'nick_changed':
      return message.payload.room_id === undefined
        ? [`*** you are now known as ${clean(message.payload.user_name)}`]
        : [`*** ${clean(message.payload.old_name)} is now known as ${clean(message.payload.user_name)}`];
    case 'joined': {
      const { room_id, room_name, members, topic, roles } = message.payload;
      const name = room_name !== room_id ? ` (${clean(room_name)})` : '';
      const lines = [`*** you joined #${clean(room_id)}${name}; here: ${nameList(members, roles)}`];
      if (topic)
        lines.push(`#${clean(room_id)} -- topic: ${clean(topic.text)} (set by ${clean(topic.set_by)})`);
      return lines;
    }
    case 'topic': {
      const { room_id, topic } = message.payload;
      return topic
        ? [
            `#${clean(room_id)} -- topic: ${clean(topic.text)} (set by ${clean(topic.set_by)} at ${clock(topic.set_ts)})`,
          ]
        : [`#${clean(room_id)} -- no topic is set`];
    }
    case 'role_changed': {
      const { room_id, user_name, role, by } = message.payload;
      const what =
        role === 'operator'
          ? `made ${clean(user_name)} an operator`
          : role === 'voice'
            ? `gave ${clean(user_name)} voice`
            : `took ${clean(user_name)}'s operator status or voice away`;
      return [`#${clean(room_id)} -- ${clean(by)} ${what}`];
    }
    case 'modes_changed':
      return [
        `#${clean(message.payload.room_id)} -- ${clean(message.payload.by)} set the modes: ${modeText(message.payload.modes)}`,
      ];
    case 'ban_changed': {
      const { room_id, mask, banned, by } = message.payload;
      return [`#${clean(room_id)} -- ${clean(by)} ${banned ? 'banned' : 'lifted the ban on'} ${clean(mask)}`];
    }
    case 'bans': {
      const { room_id, bans } = message.payload;
      if (bans.length === 0) return [`#${clean(room_id)} -- no bans`];
      return [
        `#${clean(room_id)} -- ${bans.length} ban(s):`,
        ...bans.map((b) => `#${clean(room_id)} --   ${clean(b.mask)} (by ${clean(b.set_by)})`),
      ];
    }
    case 'modes': {
      const { room_id, modes, owner, operators, voiced } = message.payload;
      return [
        `#${clean(room_id)} -- modes: ${modeText(modes)}; owner: ${owner === null ? 'none' : clean(owner)}; operators: ${operators.map(clean).join(', ') || 'none'}; voiced: ${voiced.map(clean).join(', ') || 'none'}`,
      ];
    }
    case 'user_account':
      return [];
    case 'invited': {
      const { room_id, user_name, by } = message.payload;
      return [`-- ${clean(by)} invited ${clean(user_name)} to #${clean(room_id)} (/join #${clean(room_id)})`];
    }
    case 'killed':
      return [`-- ${clean(message.payload.user_name)} was disconnected (${clean(message.payload.reason)})`];
    case 'welcome':
      return [`*** hello ${clean(message.payload.user_name)}; type a line to talk, /help for commands`];
    case 'room_created':
      return [`*** created #${clean(message.payload.room_id)}`];
    case 'rooms':
      return [
        `*** ${message.payload.rooms.length} room(s)${message.payload.has_more ? ', busiest first' : ''}:`,
        ...message.payload.rooms.map(
          (r) =>
            `***   #${clean(r.room_id)}  ${r.members} here${r.room_name !== r.room_id ? `  ${clean(r.room_name)}` : ''}`,
        ),
        ...(message.payload.has_more ? ['*** more: /rooms more (or /rooms <filter> to search)'] : []),
      ];
    case 'users': {
      // Away members are marked; an older payload without details lists plain nicks.
      const away = new Set(
        message.payload.members?.filter((m) => m.away !== undefined).map((m) => m.user_name),
      );
      return [
        `*** in #${clean(message.payload.room_id)}: ${nameList(message.payload.users, message.payload.roles, away)}`,
      ];
    }
    case 'registered':
      return [
        `*** registered ${clean(message.payload.user_name)}; next time answer the nick prompt with ${clean(message.payload.user_name)}, then give the password when asked`,
      ];
    case 'shutdown':
      return [`*** ${clean(message.payload.message)}`];
    case 'error':
      return [`*** error: ${clean(message.payload.message)}`];
    case 'dm':
      return dmLines(message.payload, undefined);
    case 'pong':
      return [];
  }
}

/** `*** alice is away: gone fishing`, or `*** alice is back`. */
export function awayLine(userName: string, message: string | undefined): string {
  return message !== undefined
    ? `*** ${clean(userName)} is away: ${clean(message)}`
    : `*** ${clean(userName)} is back`;
}

/** Minutes and seconds (and hours), for whois's idle time. */
function duration(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}

function whoisLines(w: ServerEventPayloads['whois']): string[] {
  const who = clean(w.user_name);
  const rooms = w.rooms.map((r) => `#${clean(r)}`).join(', ');
  return [
    `*** ${who}: ${w.registered ? 'registered nick' : 'not registered'}`,
    ...(w.away !== undefined ? [`*** ${who}: away: ${clean(w.away)}`] : []),
    `*** ${who}: idle ${duration(w.idle_ms)}, connected since ${clock(w.connected_ts)} UTC`,
    `*** ${who}: ${rooms === '' ? 'shares no room with you' : `in ${rooms} (rooms you share)`}`,
  ];
}

/** `+imt`, or `none`. */
function modeText(modes: { topic_locked: boolean; invite_only: boolean; moderated: boolean }): string {
  const letters = `${modes.invite_only ? 'i' : ''}${modes.moderated ? 'm' : ''}${modes.topic_locked ? 't' : ''}`;
  return letters === '' ? 'none' : `+${letters}`;
}

/** Joins lines into wire text (each ended with CRLF). */
export function toWire(lines: string[]): string {
  return lines.length === 0 ? '' : lines.join(EOL) + EOL;
}

/** The event's TCP bytes, rendered once per event and shared by every TCP recipient. */
export function tcpLinesOf(out: Outbound): Buffer {
  return out.render('tcp', (o) => Buffer.from(toWire(renderLines(o.message)), 'utf8'));
}
