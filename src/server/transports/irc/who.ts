import type { ServerEventPayloads } from '../../../protocol/events.js';
import { rolePrefix } from './channel-state.js';
import type { IrcContext } from './commands.js';
import type { IrcMessage } from './message.js';
import { HOST, ircNick, roomOf, DEFAULT_USERNAME } from './names.js';
import { RPL } from './numerics.js';

/**
 * WHO (Modern IRC) and WHOX (IRCv3 `WHO <mask> %<fields>[,<token>]`): a channel's members, one
 * nick, or the nicks online anywhere (every node of a cluster) that match a mask. Each row shows
 * the username and real name the user's client gave in USER (a user of another door: `~u` and
 * its nick).
 */

type Whois = ServerEventPayloads['whois'];

/** How many users one `WHO mask` lists at most. */
export const MAX_WHO_MATCHES = 100;

/** The WHOX fields, in the order a 354 reply gives them whatever order they were asked in. */
const WHOX_FIELDS = 'tcuihsnfdlaor';

/** The `%fields[,token]` of a WHOX request, or undefined for a plain WHO. */
export interface Whox {
  fields: Set<string>;
  /** The query type echoed by `t`: 1-3 digits (`0` when none was given, as ircu does). */
  token: string;
}

/** Parses WHO's second parameter: `%cnu` or `%tna,123`; anything else is a plain WHO. */
export function parseWhox(arg: string | undefined): Whox | undefined {
  if (arg === undefined || !arg.startsWith('%')) return undefined;
  const comma = arg.indexOf(',');
  const letters = arg.slice(1, comma === -1 ? undefined : comma);
  const token = comma === -1 ? '' : arg.slice(comma + 1);
  return {
    fields: new Set([...letters].filter((f) => WHOX_FIELDS.includes(f))),
    token: /^[0-9]{1,3}$/.test(token) ? token : '0',
  };
}

/** One row of a WHO answer: who, where, and what whois said of them (undefined: unknown). */
interface Row {
  channel: string;
  nick: string;
  away: boolean;
  /** `@` or `+` in a channel, `''` elsewhere. */
  prefix: string;
  whois: Whois | undefined;
}

/**
 * Matches an IRC mask (`*` any run, `?` one character) against a nick, without case. Linear
 * matching with one remembered `*` (never a regular expression: `*a*a*a*...b` would backtrack
 * for seconds over a long nick, and WHO runs it over thousands of nicks).
 */
export function maskMatches(mask: string, nick: string): boolean {
  const p = [...mask.toLowerCase()];
  const s = [...nick.toLowerCase()];
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === s[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star !== -1) {
      i = star + 1;
      j = ++resume;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

/** WHO / WHOX. The end (315) names the mask exactly as the client sent it. */
export async function who(c: IrcContext, m: IrcMessage): Promise<void> {
  const mask = m.params[0] ?? '*';
  const whox = parseWhox(m.params[1]);
  const rows = mask.startsWith('#') ? await channelRows(c, mask) : await nickRows(c, mask);
  for (const row of rows) {
    if (whox) whoxReply(c, row, whox);
    else whoReply(c, row);
  }
  c.numeric(RPL.ENDOFWHO, mask, 'End of WHO list');
}

/** A channel's members (every node's), with their roles' prefixes and away state. */
async function channelRows(c: IrcContext, channel: string): Promise<Row[]> {
  const room = roomOf(channel);
  if (room === undefined) return [];
  const answer = await c.ask({ type: 'users', payload: { room_id: room } });
  if (answer?.type !== 'users') return [];
  const list = answer.payload;
  const away = new Set((list.members ?? []).filter((u) => u.away !== undefined).map((u) => u.user_name));
  const whois = await c.options.whoAnswers(list.users);
  return list.users.map((n, i) => ({
    channel,
    nick: n,
    away: away.has(n),
    prefix: rolePrefix(list.roles?.[n]),
    whois: whois[i],
  }));
}

/** One nick, or the nicks online anywhere that match a mask (`*`, `al?ce`): at most MAX_WHO_MATCHES. */
async function nickRows(c: IrcContext, mask: string): Promise<Row[]> {
  const masked = /[*?]/.test(mask);
  const names = masked
    ? await c.options.findNicks((n) => maskMatches(mask, ircNick(n)), MAX_WHO_MATCHES)
    : [c.options.online(mask) ?? mask];
  // The asker's channels: each answer's `rooms` are then those it shares with the asker.
  const whois = await c.options.whoAnswers(names, masked ? [...c.channels] : []);
  const rows: Row[] = [];
  for (const w of whois) {
    if (w === undefined) continue;
    // +i (Modern IRC): a mask lists an invisible user only to someone who shares a channel with
    // it (`rooms` holds the shared ones) or to itself; asked by its exact nick, it is listed.
    if (masked && w.invisible && w.rooms.length === 0 && w.user_name !== c.nick) continue;
    rows.push({ channel: '*', nick: w.user_name, away: w.away !== undefined, prefix: '', whois: w });
  }
  return rows;
}

/** The username, host and real name a row shows: what USER gave, else `~u`, `chat` and the nick. */
function identity(row: Row): { username: string; realName: string } {
  return {
    username: row.whois?.username ?? DEFAULT_USERNAME,
    realName: row.whois?.real_name ?? ircNick(row.nick),
  };
}

/** 352: `<channel> <user> <host> <server> <nick> <flags> :<hopcount> <real name>`. Flags: H here, G away. */
function whoReply(c: IrcContext, row: Row): void {
  const { username, realName } = identity(row);
  c.numeric(
    RPL.WHOREPLY,
    row.channel,
    username,
    HOST,
    c.options.serverName,
    ircNick(row.nick),
    `${row.away ? 'G' : 'H'}${row.prefix}`,
    `0 ${realName}`,
  );
}

/** 354 with the fields asked for, in WHOX's fixed order. The address is never shown (255.255.255.255). */
function whoxReply(c: IrcContext, row: Row, whox: Whox): void {
  const { username, realName } = identity(row);
  const value: Record<string, string> = {
    t: whox.token,
    c: row.channel,
    u: username,
    i: '255.255.255.255',
    h: HOST,
    s: c.options.serverName,
    n: ircNick(row.nick),
    f: `${row.away ? 'G' : 'H'}${row.prefix}`,
    d: '0',
    l: String(Math.floor((row.whois?.idle_ms ?? 0) / 1000)),
    // A registered nick held with its password is its account (`0`: not logged in).
    a: row.whois?.registered === true ? ircNick(row.whois.user_name) : '0',
    o: 'n/a',
    r: realName,
  };
  const params = [...WHOX_FIELDS].filter((f) => whox.fields.has(f)).map((f) => value[f]!);
  // WHOX with no known field still answers the row, as an empty 354 would be no reply at all.
  c.numeric(RPL.WHOSPCRPL, ...params);
}
