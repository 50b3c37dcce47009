import {
  MAX_BANS_PER_ROOM,
  MAX_HISTORY_PAGE,
  MAX_NICK_CHARS,
  MAX_REASON_CHARS,
  MAX_ROOM_ID_CHARS,
  MAX_STATUS_CHARS,
  MAX_TOPIC_CHARS,
} from '../../../protocol/limits.js';
import { MAX_MODE_CHANGES } from './room-commands.js';
import { MONITOR_LIMIT } from './monitor.js';
import { SERVER_VERSION } from '../../hub/identity.js';
import type { IrcContext } from './commands.js';
import { MAX_LINE_BYTES } from './message.js';
import { ircNick, isIrcNick } from './names.js';
import { ERR, RPL } from './numerics.js';

/**
 * The ISUPPORT tokens (005): what the server enforces. PREFIX: owners and operators are `@`,
 * voiced users `+`; CHANMODES: `b` (a list), `i`, `m`, `t`; the lengths are the hub's limits
 * (a longer topic, kick or part reason, or away message is cut to them by the door).
 */
export function isupport(serverName: string): string[] {
  return [
    `AWAYLEN=${MAX_STATUS_CHARS}`,
    'CASEMAPPING=ascii',
    'CHANMODES=b,,,imt',
    `CHANNELLEN=${MAX_ROOM_ID_CHARS + 1}`,
    'CHANTYPES=#',
    // Client-only tags (`+typing`...) are relayed to nobody (there is no TAGMSG): all are denied.
    'CLIENTTAGDENY=*',
    `CHATHISTORY=${MAX_HISTORY_PAGE}`,
    // LIST takes masks (M), `!mask` (N) and member counts `>n` `<n` (U).
    'ELIST=MNU',
    `KICKLEN=${MAX_REASON_CHARS}`,
    `LINELEN=${MAX_LINE_BYTES}`,
    `MAXLIST=b:${MAX_BANS_PER_ROOM}`,
    `MONITOR=${MONITOR_LIMIT}`,
    `MODES=${MAX_MODE_CHANGES}`,
    'MSGREFTYPES=msgid,timestamp',
    `NETWORK=${serverName}`,
    `NICKLEN=${MAX_NICK_CHARS}`,
    'PREFIX=(ov)@+',
    `TARGMAX=JOIN:,PART:,PRIVMSG:1,NOTICE:1,NAMES:1,WHOIS:1,ISON:,USERHOST:5,KICK:${MAX_MODE_CHANGES}`,
    `TOPICLEN=${MAX_TOPIC_CHARS}`,
    'UTF8ONLY',
    // WHO <mask> %<fields>[,<token>] (IRCv3 WHOX): 354 replies.
    'WHOX',
  ];
}

/**
 * Finishes registration once NICK and USER came and CAP negotiation (if any) ended: binds the
 * nick through the hub's `hello` (with the PASS password, if any), unless SASL bound it already,
 * then greets (001-005, LUSERS, MOTD). A refused nick leaves the client unregistered with the
 * numeric that says why, so it can send another NICK.
 */
export async function tryRegister(c: IrcContext): Promise<void> {
  if (c.registered || c.capNegotiating || c.nick === undefined || c.user === undefined) return;
  if (!c.bound) {
    if (!isIrcNick(c.nick)) {
      const bad = c.nick;
      c.nick = undefined;
      c.numeric(ERR.ERRONEUSNICKNAME, ircNick(bad), 'Erroneous nickname');
      return;
    }
    const wanted = c.nick;
    const answer = await c.ask({
      type: 'hello',
      payload: { user_name: wanted, ...(c.password !== undefined ? { password: c.password } : {}) },
    });
    if (answer?.type !== 'welcome') {
      c.nick = undefined; // numerics address `*` again
      nickRefused(c, wanted, answer?.type === 'error' ? answer.payload : undefined, c.password !== undefined);
      return;
    }
    c.bound = true;
    c.nick = answer.payload.user_name;
    if (answer.payload.registered) c.account = answer.payload.user_name;
  }
  c.registered = true;
  welcome(c);
}

/** The numeric for a nick the hub refused (hello or nick). */
export function nickRefused(
  c: IrcContext,
  wanted: string,
  error: { code: string; message: string } | undefined,
  withPassword: boolean,
): void {
  const nick = ircNick(wanted);
  switch (error?.code) {
    case 'bad_nick':
      return c.numeric(ERR.ERRONEUSNICKNAME, nick, 'Erroneous nickname');
    case 'nick_registered':
      return withPassword
        ? c.numeric(ERR.PASSWDMISMATCH, `Password incorrect for ${nick}`)
        : c.numeric(ERR.NICKNAMEINUSE, nick, 'Nickname is registered; log in with SASL PLAIN or PASS');
    case 'nick_taken':
      return c.numeric(ERR.NICKNAMEINUSE, nick, 'Nickname is already in use');
    case undefined:
      return c.notice(`no answer for nick ${nick}; try again`);
    default:
      return c.fail('NICK', error!.code.toUpperCase(), nick, error!.message);
  }
}

/** 001-005, LUSERS and the MOTD: what every client waits for after registering. */
export function welcome(c: IrcContext): void {
  const server = c.options.serverName;
  c.numeric(RPL.WELCOME, `Welcome to the ${server} IRC door of chat, ${c.target}`);
  c.numeric(RPL.YOURHOST, `Your host is ${server}, running chat-${SERVER_VERSION}`);
  c.numeric(RPL.CREATED, `This server was created ${c.options.createdAt.toUTCString()}`);
  c.numeric(RPL.MYINFO, server, `chat-${SERVER_VERSION}`, 'i', 'bimotv', 'bov');
  const tokens = isupport(server);
  for (let i = 0; i < tokens.length; i += 12)
    c.numeric(RPL.ISUPPORT, ...tokens.slice(i, i + 12), 'are supported by this server');
  lusers(c);
  motd(c);
}

/** LUSERS: users and rooms (every connected chat user counts, whatever door). */
export function lusers(c: IrcContext): void {
  const { users, rooms } = c.options.counts();
  c.numeric(RPL.LUSERCLIENT, `There are ${users} users and 0 invisible on 1 servers`);
  c.numeric(RPL.LUSEROP, '0', 'operator(s) online');
  c.numeric(RPL.LUSERCHANNELS, String(rooms), 'channels formed');
  c.numeric(RPL.LUSERME, `I have ${users} clients and 0 servers`);
  c.numeric(RPL.LOCALUSERS, String(users), String(users), `Current local users ${users}, max ${users}`);
  c.numeric(RPL.GLOBALUSERS, String(users), String(users), `Current global users ${users}, max ${users}`);
}

/** The MOTD, or 422 when the operator set none. */
export function motd(c: IrcContext): void {
  const lines = c.options.motd;
  if (lines === undefined || lines.length === 0) return c.numeric(ERR.NOMOTD, 'MOTD File is missing');
  c.numeric(RPL.MOTDSTART, `- ${c.options.serverName} Message of the day -`);
  for (const line of lines) c.numeric(RPL.MOTD, `- ${line}`);
  c.numeric(RPL.ENDOFMOTD, 'End of /MOTD command');
}
