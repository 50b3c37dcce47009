import type { CommandRequest } from '../../../protocol/commands.js';
import type { RoomRole, ServerEventPayloads, ServerMessage } from '../../../protocol/events.js';
import { sameRoom } from '../../../protocol/room-key.js';
import { sanitizeText } from '../../../protocol/sanitize.js';
import { SERVER_VERSION } from '../../hub/identity.js';
import { capList, isCap, type Cap } from './caps.js';
import { chathistory } from './chathistory.js';
import { list } from './list.js';
import { formatMessage, type IrcMessage, type OutMessage } from './message.js';
import {
  channelOf,
  DEFAULT_USERNAME,
  HOST,
  ircNick,
  ircRealName,
  ircUsername,
  isIrcNick,
  roomOf,
  sourceOf,
  USER_HOST,
} from './names.js';
import { who } from './who.js';
import { monitor } from './monitor.js';
import { ERR, MORE, RPL } from './numerics.js';
import { lusers, motd, nickRefused, tryRegister } from './registration.js';
import { channelMode, ROOM_COMMANDS, topicNumerics } from './room-commands.js';
import { rolePrefix, type ChannelStates } from './channel-state.js';
import { MAX_REASON_CHARS, MAX_STATUS_CHARS } from '../../../protocol/limits.js';
import type { IrcSession, IrcSessionOptions } from './irc-session.js';

/** What a command handler may see and do: the session's state and output (see IrcSession). */
export interface IrcContext {
  readonly caps: Set<Cap>;
  /** Call after changing `caps`: what depends on them is worked out again. */
  capsChanged(): void;
  capNegotiating: boolean;
  cap302: boolean;
  nick: string | undefined;
  user: { user: string; realname: string } | undefined;
  /** User mode +i: left out of WHO masks by anyone who shares no channel with this user. */
  invisible: boolean;
  password: string | undefined;
  bound: boolean;
  registered: boolean;
  account: string | undefined;
  sasl: string | undefined;
  readonly channels: Set<string>;
  readonly chans: ChannelStates;
  /** MONITOR: the nicks this client monitors, by collision key (as it wrote them). */
  readonly monitored: Map<string, string>;
  /** MONITOR: a monitored nick came online or went. */
  monitorChanged(nick: string, online: boolean): void;
  readonly options: IrcSessionOptions;
  readonly target: string;
  readonly source: string;
  send(...lines: OutMessage[]): void;
  sendBatch(type: string, params: string[], lines: OutMessage[]): void;
  numeric(code: string, ...params: string[]): void;
  notice(text: string): void;
  fail(command: string, code: string, ...rest: string[]): void;
  quit(reason: string): void;
  ask(raw: CommandRequest): Promise<ServerMessage | undefined>;
  messageLines(m: Parameters<IrcSession['messageLines']>[0]): OutMessage[];
  known(id: string): { room: string; seq: number; ts: number } | undefined;
}

/** One IRC verb: the parameters it needs, whether registration must be done, what it does. */
export interface IrcCommand {
  minParams: number;
  registered: boolean;
  run(c: IrcContext, m: IrcMessage): void | Promise<void>;
}

const cmd = (minParams: number, registered: boolean, run: IrcCommand['run']): IrcCommand => ({
  minParams,
  registered,
  run,
});

/** The CTCP a PRIVMSG or NOTICE carries (`\x01VERB args\x01`), if it is one. */
function ctcpOf(text: string): { verb: string; args: string } | undefined {
  if (!text.startsWith('\x01')) return undefined;
  const body = text.slice(1).replace(/\x01$/, '');
  const space = body.indexOf(' ');
  return space === -1
    ? { verb: body.toUpperCase(), args: '' }
    : { verb: body.slice(0, space).toUpperCase(), args: body.slice(space + 1) };
}

/** The request a line of speech becomes: a CTCP ACTION (`/me`) is a message of kind `action`. */
export function speech(
  to: { room: string } | { nick: string },
  text: string,
  action: boolean,
): CommandRequest {
  const kind = action ? { kind: 'action' as const } : {};
  return 'room' in to
    ? { type: 'message', payload: { room_id: to.room, message: text, ...kind } }
    : { type: 'dm', payload: { to: to.nick, message: text, ...kind } };
}

async function privmsg(c: IrcContext, m: IrcMessage, notice: boolean): Promise<void> {
  const [targets = '', raw = ''] = m.params;
  const verb = notice ? 'NOTICE' : 'PRIVMSG';
  const list = targets.split(',').filter((t) => t !== '');
  if (list.length > 1)
    return notice ? undefined : c.numeric(MORE.TOOMANYTARGETS, targets, 'Too many targets');
  const target = list[0] ?? '';
  if (raw === '') return notice ? undefined : c.numeric(MORE.NOTEXTTOSEND, 'No text to send');
  const ctcp = ctcpOf(raw);
  if (ctcp && ctcp.verb !== 'ACTION') return ctcpRequest(c, target, ctcp, notice);
  const text = ctcp ? ctcp.args : raw;
  if (text.trim() === '') return;
  if (target.startsWith('#')) {
    const room = roomOf(target);
    if (room === undefined)
      return notice ? undefined : c.numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    const answer = await c.ask(speech({ room }, text, ctcp !== undefined));
    if (answer?.type === 'message') {
      if (c.caps.has('echo-message')) c.send(...c.messageLines(answer.payload));
      return;
    }
    if (notice || answer?.type !== 'error') return;
    const e = answer.payload;
    if (e.code === 'no_such_room') return c.numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
    return c.numeric(ERR.CANNOTSENDTOCHAN, target, `Cannot send to channel: ${sanitizeText(e.message)}`);
  }
  // The nick as the hub knows it: `a_b` from IRC may be `a!b`, which IRC clients cannot write.
  const to = c.options.online(target) ?? target;
  const answer = await c.ask(speech({ nick: to }, text, ctcp !== undefined));
  if (answer?.type === 'dm') {
    if (c.caps.has('echo-message'))
      c.send(
        ...c.messageLines({
          ...answer.payload,
          user_name: answer.payload.from,
          target: ircNick(answer.payload.to),
        }),
      );
    return;
  }
  if (notice || answer?.type !== 'error') return;
  if (answer.payload.code === 'no_such_user')
    return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  c.fail(verb, answer.payload.code.toUpperCase(), ircNick(target), sanitizeText(answer.payload.message));
}

/**
 * A CTCP request other than ACTION. Chat users' clients do not speak CTCP, so VERSION and PING
 * sent to a nick online are answered by the door on their behalf; the rest are dropped (never
 * relayed: the control bytes would reach other users' screens).
 */
function ctcpRequest(
  c: IrcContext,
  target: string,
  ctcp: { verb: string; args: string },
  notice: boolean,
): void {
  if (notice || target.startsWith('#')) return;
  const nick = c.options.online(target);
  if (nick === undefined) return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  const answer =
    ctcp.verb === 'VERSION'
      ? `chat-${SERVER_VERSION} (a chat user; answered by the server)`
      : ctcp.verb === 'PING'
        ? sanitizeText(ctcp.args).slice(0, 100)
        : undefined;
  if (answer === undefined) return;
  c.send({ source: sourceOf(nick), command: 'NOTICE', params: [c.target, `\x01${ctcp.verb} ${answer}\x01`] });
}

/** 353 lines (as many as fit) and 366 for a channel's members, operators `@` and voiced `+`. */
function names(
  c: IrcContext,
  channel: string,
  members: string[],
  roles: Record<string, RoomRole> | undefined,
): void {
  const shown = members.map(
    (n) => rolePrefix(roles?.[n]) + (c.caps.has('userhost-in-names') ? sourceOf(n) : ircNick(n)),
  );
  const head = formatMessage({
    source: c.options.serverName,
    command: RPL.NAMREPLY,
    params: [c.target, '=', channel, 'x'],
  }).length;
  let line: string[] = [];
  let bytes = head;
  const flush = (): void => {
    if (line.length > 0) c.numeric(RPL.NAMREPLY, '=', channel, line.join(' '));
    line = [];
    bytes = head;
  };
  for (const name of shown) {
    const size = Buffer.byteLength(name, 'utf8') + 1;
    if (bytes + size > 500) flush();
    line.push(name);
    bytes += size;
  }
  flush();
  c.numeric(RPL.ENDOFNAMES, channel, 'End of /NAMES list');
}

async function join(c: IrcContext, channel: string): Promise<void> {
  const room = roomOf(channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  if (joinedAs(c, room) !== undefined) return;
  const answer = await c.ask({ type: 'join', payload: { room_id: room } });
  if (answer?.type === 'joined') {
    // Rooms compare without case: `JOIN #Lobby` is #lobby, and every later line names it so.
    const p = answer.payload;
    const joined = p.room_id;
    c.channels.add(joined);
    c.chans.joined(joined, p.modes, p.roles);
    const chan = channelOf(joined);
    c.send({
      source: c.source,
      command: 'JOIN',
      params: c.caps.has('extended-join') ? [chan, c.account ?? '*', c.user?.realname ?? c.target] : [chan],
    });
    // The burst as IRC servers send it: the topic (332, 333; nothing without one), then NAMES.
    if (p.topic !== undefined && p.topic.text !== '') topicNumerics(c, chan, p.topic);
    names(c, chan, p.members, p.roles);
    return;
  }
  const e = answer?.type === 'error' ? answer.payload : undefined;
  if (e?.code === 'banned') return c.numeric(ERR.BANNEDFROMCHAN, channel, 'Cannot join channel (+b)');
  if (e?.code === 'invite_only') return c.numeric(ERR.INVITEONLYCHAN, channel, 'Cannot join channel (+i)');
  if (e?.code === 'too_many_rooms')
    return c.numeric(ERR.TOOMANYCHANNELS, channel, 'You have joined too many channels');
  if (e?.code === 'room_full') return c.numeric(ERR.CHANNELISFULL, channel, 'Cannot join channel (+l)');
  c.fail('JOIN', (e?.code ?? 'timeout').toUpperCase(), channel, sanitizeText(e?.message ?? 'no answer'));
}

async function part(c: IrcContext, channel: string, reason = ''): Promise<void> {
  const room = roomOf(channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  const joined = joinedAs(c, room);
  if (joined === undefined) return c.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
  const why = sanitizeText(reason).slice(0, MAX_REASON_CHARS).trim();
  const answer = await c.ask({
    type: 'leave',
    payload: { room_id: joined, ...(why ? { reason: why } : {}) },
  });
  c.channels.delete(joined);
  c.chans.left(joined);
  if (answer?.type === 'user_left')
    c.send({ source: c.source, command: 'PART', params: [channelOf(joined), ...(why ? [why] : [])] });
}

/** The room's own spelling when this client is in `room` (compared without case). */
function joinedAs(c: IrcContext, room: string): string | undefined {
  for (const joined of c.channels) if (sameRoom(joined, room)) return joined;
  return undefined;
}

async function sasl(c: IrcContext, m: IrcMessage): Promise<void> {
  const arg = m.params[0]!;
  if (c.registered || c.bound) return c.numeric(ERR.SASLALREADY, 'You have already authenticated');
  if (!c.caps.has('sasl')) return c.numeric(ERR.SASLFAIL, 'SASL authentication failed');
  if (arg === '*') {
    c.sasl = undefined;
    return c.numeric(ERR.SASLABORTED, 'SASL authentication aborted');
  }
  if (c.sasl === undefined) {
    if (arg.toUpperCase() !== 'PLAIN') {
      c.numeric(RPL.SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
      return c.numeric(ERR.SASLFAIL, 'SASL authentication failed');
    }
    c.sasl = '';
    return c.send({ command: 'AUTHENTICATE', params: ['+'] });
  }
  if (arg.length > 400) {
    c.sasl = undefined;
    return c.numeric(ERR.SASLTOOLONG, 'SASL message too long');
  }
  c.sasl += arg === '+' ? '' : arg;
  if (arg.length === 400) return; // more to come
  const data = Buffer.from(c.sasl, 'base64').toString('utf8');
  c.sasl = undefined;
  const [, authcid = '', password = ''] = data.split('\0');
  if (authcid === '' || password === '') return c.numeric(ERR.SASLFAIL, 'SASL authentication failed');
  const answer = await c.ask({ type: 'hello', payload: { user_name: authcid, password } });
  if (answer?.type !== 'welcome') return c.numeric(ERR.SASLFAIL, 'SASL authentication failed');
  // The nick is held now whatever happens; without an account behind it, SASL still failed.
  c.bound = true;
  c.nick = answer.payload.user_name;
  if (!answer.payload.registered)
    return c.numeric(ERR.SASLFAIL, 'SASL authentication failed: no such account');
  c.account = answer.payload.user_name;
  c.numeric(
    RPL.LOGGEDIN,
    `${ircNick(c.nick)}!${USER_HOST}`,
    ircNick(c.account),
    `You are now logged in as ${ircNick(c.account)}`,
  );
  c.numeric(RPL.SASLSUCCESS, 'SASL authentication successful');
}

async function cap(c: IrcContext, m: IrcMessage): Promise<void> {
  const sub = m.params[0]!.toUpperCase();
  const reply = (...params: string[]): void =>
    c.send({ source: c.options.serverName, command: 'CAP', params: [c.target, ...params] });
  switch (sub) {
    case 'LS':
      if (!c.registered) c.capNegotiating = true;
      if (Number(m.params[1] ?? 0) >= 302) c.cap302 = true;
      return reply('LS', capList(c.cap302));
    case 'LIST':
      return reply('LIST', [...c.caps].join(' '));
    case 'REQ': {
      if (!c.registered) c.capNegotiating = true;
      const asked = (m.params[1] ?? '').split(' ').filter((w) => w !== '');
      const ok = asked.length > 0 && asked.every((w) => isCap(w.replace(/^-/, '')));
      if (!ok) return reply('NAK', m.params[1] ?? '');
      for (const w of asked) {
        if (w.startsWith('-')) c.caps.delete(w.slice(1) as Cap);
        else c.caps.add(w as Cap);
      }
      c.capsChanged();
      return reply('ACK', m.params[1] ?? '');
    }
    case 'END':
      if (c.registered) return;
      c.capNegotiating = false;
      return tryRegister(c);
    default:
      return c.numeric(MORE.INVALIDCAPCMD, sub, 'Invalid CAP command');
  }
}

async function nick(c: IrcContext, m: IrcMessage): Promise<void> {
  const wanted = m.params[0] ?? '';
  if (wanted === '') return c.numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
  if (!isIrcNick(wanted)) return c.numeric(ERR.ERRONEUSNICKNAME, ircNick(wanted), 'Erroneous nickname');
  if (!c.registered) {
    if (!c.bound) c.nick = wanted;
    return tryRegister(c);
  }
  if (wanted === c.nick) return;
  const before = c.source;
  const answer = await c.ask({ type: 'nick', payload: { user_name: wanted } });
  if (answer?.type === 'nick_changed') {
    c.nick = answer.payload.user_name;
    c.account = undefined;
    return c.send({ source: before, command: 'NICK', params: [ircNick(c.nick)] });
  }
  nickRefused(c, wanted, answer?.type === 'error' ? answer.payload : undefined, false);
}

async function users(c: IrcContext, channel: string): Promise<ServerEventPayloads['users'] | undefined> {
  const room = roomOf(channel);
  if (room === undefined) return undefined;
  const answer = await c.ask({ type: 'users', payload: { room_id: room } });
  return answer?.type === 'users' ? answer.payload : undefined;
}

function mode(c: IrcContext, m: IrcMessage): void | Promise<void> {
  const [target = '', change] = m.params;
  if (target.startsWith('#')) return channelMode(c, m);
  if (c.options.online(target) === undefined)
    return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  if (target.toLowerCase() !== (c.nick ?? '').toLowerCase())
    return c.numeric(ERR.USERSDONTMATCH, "Can't change mode for other users");
  if (change === undefined) return c.numeric(RPL.UMODEIS, c.invisible ? '+i' : '+');
  // +i / -i is the one user mode (004 lists it); any other letter is 501, once, and the rest applies.
  let on = true;
  let applied = '';
  let unknown = false;
  for (const letter of change) {
    if (letter === '+' || letter === '-') on = letter === '+';
    else if (letter !== 'i') unknown = true;
    else if (c.invisible !== on) {
      c.invisible = on;
      applied += `${on ? '+' : '-'}i`;
    }
  }
  if (unknown) c.numeric(ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
  if (applied !== '')
    c.send({ source: c.source, command: 'MODE', params: [ircNick(c.nick ?? '*'), applied] });
}

/** `nick=+~user@chat` (here) or `nick=-~user@chat` (away) for a nick online, as USERHOST answers. */
async function userhostOf(c: IrcContext, nickName: string): Promise<string | undefined> {
  const found = c.options.online(nickName) ?? nickName;
  const who = await c.ask({ type: 'whois', payload: { user_name: found } });
  if (who?.type !== 'whois') return undefined;
  const w = who.payload;
  return `${ircNick(w.user_name)}=${w.away !== undefined ? '-' : '+'}${w.username ?? DEFAULT_USERNAME}@${HOST}`;
}

/**
 * WHOIS: 311, 312, 301 (away), 317 (idle, signon), 319 (the channels the asker shares with
 * them: never the others), 330 (the account, for a registered nick), 318.
 */
async function whois(c: IrcContext, m: IrcMessage): Promise<void> {
  const wanted = m.params[m.params.length - 1]!;
  // A nick of this node as IRC shows it (`a_b` for `a!b`), else as given (another node answers for its own).
  const found = c.options.online(wanted) ?? wanted;
  const answer = await c.ask({ type: 'whois', payload: { user_name: found } });
  if (answer?.type !== 'whois') c.numeric(ERR.NOSUCHNICK, ircNick(wanted), 'No such nick/channel');
  else {
    const w = answer.payload;
    const nick = ircNick(w.user_name);
    c.numeric(RPL.WHOISUSER, nick, w.username ?? DEFAULT_USERNAME, HOST, '*', w.real_name ?? nick);
    if (w.rooms.length > 0) c.numeric(RPL.WHOISCHANNELS, nick, w.rooms.map(channelOf).join(' '));
    c.numeric(RPL.WHOISSERVER, nick, c.options.serverName, 'chat');
    if (w.away !== undefined) c.numeric(RPL.AWAY, nick, sanitizeText(w.away));
    if (w.registered) c.numeric(RPL.WHOISACCOUNT, nick, nick, 'is logged in as');
    c.numeric(
      RPL.WHOISIDLE,
      nick,
      String(Math.floor(w.idle_ms / 1000)),
      String(Math.floor(w.connected_ts / 1000)),
      'seconds idle, signon time',
    );
  }
  c.numeric(RPL.ENDOFWHOIS, ircNick(wanted), 'End of /WHOIS list');
}

/** The command table: every IRC verb the door knows. A verb not here is 421 (451 before registration). */
export const COMMANDS: Record<string, IrcCommand | undefined> = {
  CAP: cmd(1, false, cap),
  PASS: cmd(1, false, (c, m) => {
    if (c.registered) return c.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
    c.password = m.params[0];
  }),
  NICK: cmd(0, false, nick),
  USER: cmd(4, false, (c, m) => {
    if (c.registered) return c.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
    // An empty username or real name is no USER at all (Modern IRC: 461, even when given as `:`).
    const realname = ircRealName(m.params[3]!);
    if (m.params[0] === '' || realname === '')
      return c.numeric(ERR.NEEDMOREPARAMS, 'USER', 'Not enough parameters');
    // Kept for the session: WHO, WHOIS and USERHOST show them, on every node (see profile()).
    c.user = { user: ircUsername(m.params[0]!), realname };
    return tryRegister(c);
  }),
  AUTHENTICATE: cmd(1, false, sasl),
  PING: cmd(1, false, (c, m) =>
    c.send({ source: c.options.serverName, command: 'PONG', params: [c.options.serverName, m.params[0]!] }),
  ),
  PONG: cmd(0, false, () => {}),
  // The reason reaches the rooms as the quit's (others see `QUIT :reason`); the hub ends the link.
  QUIT: cmd(0, false, (c, m) => {
    const reason = [...sanitizeText(m.params[0] ?? '')].slice(0, MAX_STATUS_CHARS).join('').trim();
    c.quit(reason);
  }),
  JOIN: cmd(1, true, async (c, m) => {
    // Channels have no keys: a key given is ignored, as Modern IRC says for a channel without +k.
    if (m.params[0] === '0') {
      for (const room of [...c.channels]) await part(c, channelOf(room));
      return;
    }
    for (const channel of m.params[0]!.split(',').filter((x) => x !== '')) await join(c, channel);
  }),
  PART: cmd(1, true, async (c, m) => {
    for (const channel of m.params[0]!.split(',').filter((x) => x !== ''))
      await part(c, channel, m.params[1]);
  }),
  PRIVMSG: cmd(0, true, (c, m) => {
    if (m.params.length === 0) return c.numeric('411', 'No recipient given (PRIVMSG)');
    return privmsg(c, m, false);
  }),
  NOTICE: cmd(2, true, (c, m) => privmsg(c, m, true)),
  NAMES: cmd(0, true, async (c, m) => {
    const channel = m.params[0]?.split(',')[0];
    if (channel === undefined) return c.numeric(RPL.ENDOFNAMES, '*', 'End of /NAMES list');
    const members = await users(c, channel);
    if (members === undefined) return c.numeric(RPL.ENDOFNAMES, channel, 'End of /NAMES list');
    names(c, channel, members.users, members.roles);
  }),
  WHO: cmd(0, true, who),
  WHOIS: cmd(1, true, whois),
  LIST: cmd(0, true, list),
  USERHOST: cmd(1, true, async (c, m) => {
    const found: string[] = [];
    for (const n of m.params.slice(0, 5)) {
      const entry = await userhostOf(c, n);
      if (entry !== undefined) found.push(entry);
    }
    c.numeric(RPL.USERHOST, found.join(' '));
  }),
  ISON: cmd(1, true, (c, m) => {
    const asked = m.params.flatMap((p) => p.split(' ')).filter((n) => n !== '');
    const online = asked.map((n) => c.options.online(n)).filter((n) => n !== undefined);
    c.numeric(RPL.ISON, online.map(ircNick).join(' '));
  }),
  MOTD: cmd(0, true, (c) => motd(c)),
  LUSERS: cmd(0, true, (c) => lusers(c)),
  MODE: cmd(1, true, mode),
  ...ROOM_COMMANDS,
  CHATHISTORY: cmd(2, true, chathistory),
  MONITOR: cmd(1, true, monitor),
};
