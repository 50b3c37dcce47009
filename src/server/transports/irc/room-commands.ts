import { MAX_REASON_CHARS, MAX_STATUS_CHARS, MAX_TOPIC_CHARS } from '../../../protocol/limits.js';
import { sameRoom } from '../../../protocol/room-key.js';
import { sanitizeText } from '../../../protocol/sanitize.js';
import type { ProtocolError } from '../../../protocol/errors.js';
import { modeString } from './channel-state.js';
import type { IrcCommand, IrcContext } from './commands.js';
import type { IrcMessage } from './message.js';
import { channelOf, chatBanMask, ircBanMask, ircNick, roomOf } from './names.js';
import { ERR, RPL } from './numerics.js';

/** How many modes with a parameter (o, v, b) one MODE line may change (ISUPPORT MODES). */
export const MAX_MODE_CHANGES = 6;

/**
 * Room life from IRC (issue 14): TOPIC, KICK, INVITE, channel MODE, AWAY and KILL, each mapped
 * to its request; the hub's refusals become the numerics IRC clients know. Spread into the
 * command table (commands.ts).
 */
export const ROOM_COMMANDS: Record<string, IrcCommand> = {
  TOPIC: { minParams: 1, registered: true, run: topic },
  KICK: { minParams: 2, registered: true, run: kick },
  INVITE: { minParams: 0, registered: true, run: invite },
  AWAY: { minParams: 0, registered: true, run: away },
  KILL: { minParams: 1, registered: true, run: kill },
};

/** The channel's room as this client joined it (its own spelling), or the name's room id. */
function roomFor(c: IrcContext, channel: string): string | undefined {
  const room = roomOf(channel);
  if (room === undefined) return undefined;
  for (const joined of c.channels) if (sameRoom(joined, room)) return joined;
  return room;
}

/**
 * The numeric for a refusal of a channel request: 403 no such channel, 442 not on it, 482 not an
 * operator (or the owner's, or a protected user's, or a locked topic), 401 no such nick; anything
 * else as a standard reply naming the server's code.
 */
export function refused(c: IrcContext, verb: string, channel: string, e: ProtocolError | undefined): void {
  const text = sanitizeText(e?.message ?? 'no answer');
  switch (e?.code) {
    case 'no_such_room':
      return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
    case 'not_in_room':
      return c.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
    case 'not_operator':
    case 'not_owner':
    case 'protected_user':
    case 'topic_locked':
      return c.numeric(ERR.CHANOPRIVSNEEDED, channel, `You're not channel operator: ${text}`);
    case 'not_server_operator':
      return c.numeric(
        ERR.NOPRIVILEGES,
        'Permission Denied- You do not have the correct irc operator privileges',
      );
    default:
      return c.fail(verb, (e?.code ?? 'timeout').toUpperCase(), channel, text);
  }
}

/** `TOPIC #c`: 332 and 333, or 331. `TOPIC #c :text` sets it (`TOPIC #c :` clears it). */
async function topic(c: IrcContext, m: IrcMessage): Promise<void> {
  const channel = m.params[0]!;
  const room = roomFor(c, channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  if (m.params.length === 1) {
    const answer = await c.ask({ type: 'topic', payload: { room_id: room } });
    if (answer?.type !== 'topic') return refused(c, 'TOPIC', channel, errorOf(answer));
    return topicNumerics(c, channelOf(answer.payload.room_id), answer.payload.topic);
  }
  // A topic is one line: longer ones are cut at TOPICLEN, as IRC servers do.
  const text = [...m.params[1]!].slice(0, MAX_TOPIC_CHARS).join('');
  const answer = await c.ask({ type: 'topic', payload: { room_id: room, topic: text } });
  // The change comes back as the room's topic line: a TOPIC from this client, like everybody's.
  if (answer?.type === 'message') return c.send(...c.messageLines(answer.payload));
  refused(c, 'TOPIC', channel, errorOf(answer));
}

/** 332 and 333 for a topic, 331 without one (a join and a TOPIC query say it alike). */
export function topicNumerics(
  c: IrcContext,
  channel: string,
  t: { text: string; set_by: string; set_ts: number } | null | undefined,
): void {
  if (!t || t.text === '') return c.numeric(RPL.NOTOPIC, channel, 'No topic is set');
  c.numeric(RPL.TOPIC, channel, sanitizeText(t.text));
  c.numeric(RPL.TOPICWHOTIME, channel, ircNick(t.set_by), String(Math.floor(t.set_ts / 1000)));
}

/** `KICK #c nick[,nick] [:reason]`: one `kick` per nick. */
async function kick(c: IrcContext, m: IrcMessage): Promise<void> {
  const channel = m.params[0]!;
  const room = roomFor(c, channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  const reason = sanitizeText(m.params[2] ?? '').slice(0, MAX_REASON_CHARS);
  for (const target of m.params[1]!.split(',')
    .filter((n) => n !== '')
    .slice(0, MAX_MODE_CHANGES)) {
    const nick = c.options.online(target) ?? target;
    const answer = await c.ask({
      type: 'kick',
      payload: { room_id: room, user_name: nick, ...(reason !== '' ? { reason } : {}) },
    });
    // The kicker's answer is the room's `user_left`: shown as the KICK everybody sees.
    if (answer?.type === 'user_left') {
      const p = answer.payload;
      c.send({
        source: c.source,
        command: 'KICK',
        params: [channelOf(p.room_id), ircNick(p.user_name), sanitizeText(p.reason ?? 'kicked')],
      });
      continue;
    }
    const e = errorOf(answer);
    if (e?.code === 'no_such_user')
      c.numeric(ERR.USERNOTINCHANNEL, ircNick(target), channel, "They aren't on that channel");
    else refused(c, 'KICK', channel, e);
  }
}

/** `INVITE nick #c`: 341 to the inviter, an INVITE line to the invitee. `INVITE` alone: 337. */
async function invite(c: IrcContext, m: IrcMessage): Promise<void> {
  if (m.params.length === 0) return c.numeric('337', 'End of /INVITE list');
  const [target = '', channel = ''] = m.params;
  if (channel === '') return c.numeric(ERR.NEEDMOREPARAMS, 'INVITE', 'Not enough parameters');
  const room = roomFor(c, channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  const nick = c.options.online(target);
  if (nick === undefined) return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  const members = await c.ask({ type: 'users', payload: { room_id: room } });
  if (members?.type === 'users' && members.payload.users.includes(nick))
    return c.numeric(ERR.USERONCHANNEL, ircNick(nick), channel, 'is already on channel');
  const answer = await c.ask({ type: 'invite', payload: { room_id: room, user_name: nick } });
  if (answer?.type === 'invited')
    return c.numeric(RPL.INVITING, ircNick(answer.payload.user_name), channelOf(answer.payload.room_id));
  const e = errorOf(answer);
  if (e?.code === 'no_such_user') return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  refused(c, 'INVITE', channel, e);
}

/** `AWAY :message` (306), `AWAY` to come back (305). */
async function away(c: IrcContext, m: IrcMessage): Promise<void> {
  const text = [...sanitizeText(m.params[0] ?? '')].slice(0, MAX_STATUS_CHARS).join('').trim();
  const answer = await c.ask({ type: 'away', payload: text === '' ? {} : { message: text } });
  if (answer?.type !== 'user_away') return refused(c, 'AWAY', '*', errorOf(answer));
  if (answer.payload.message === undefined) c.numeric(RPL.UNAWAY, 'You are no longer marked as being away');
  else c.numeric(RPL.NOWAWAY, 'You have been marked as being away');
}

/** `KILL nick :reason`: a server operator disconnects a user (481 for anybody else). */
async function kill(c: IrcContext, m: IrcMessage): Promise<void> {
  const target = m.params[0]!;
  const reason = sanitizeText(m.params[1] ?? '').slice(0, MAX_REASON_CHARS);
  const nick = c.options.online(target) ?? target;
  const answer = await c.ask({
    type: 'kill',
    payload: { user_name: nick, ...(reason !== '' ? { reason } : {}) },
  });
  if (answer?.type === 'killed')
    return c.notice(`Killed ${ircNick(answer.payload.user_name)} (${sanitizeText(answer.payload.reason)})`);
  const e = errorOf(answer);
  if (e?.code === 'no_such_user') return c.numeric(ERR.NOSUCHNICK, ircNick(target), 'No such nick/channel');
  refused(c, 'KILL', ircNick(target), e);
}

/**
 * `MODE #c`: 324 with the room's modes, then 329 with its creation time (seconds, as clients show
 * "created on"). `MODE #c b` (or `+b`): the ban list (367, 368).
 * Changes: `+t -i +m` are the room modes, `+o/-o` and `+v/-v nick` roles, `+b/-b mask` bans;
 * any other letter is 472 and the rest of the line still applies, as IRC servers do.
 */
export async function channelMode(c: IrcContext, m: IrcMessage): Promise<void> {
  const channel = m.params[0]!;
  const room = roomFor(c, channel);
  if (room === undefined) return c.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  const change = m.params[1];
  if (change === undefined) {
    const answer = await c.ask({ type: 'mode', payload: { room_id: room } });
    if (answer?.type !== 'modes') return refused(c, 'MODE', channel, errorOf(answer));
    const name = channelOf(answer.payload.room_id);
    c.numeric(RPL.CHANNELMODEIS, name, modeString(answer.payload.modes));
    return c.numeric(RPL.CREATIONTIME, name, String(Math.floor(answer.payload.created_ts / 1000)));
  }
  const args = m.params.slice(2);
  let on = true;
  let roomModes = '';
  const steps: (() => Promise<void>)[] = [];
  let withParam = 0;
  for (const letter of change) {
    if (letter === '+' || letter === '-') {
      on = letter === '+';
      continue;
    }
    if (letter === 't' || letter === 'i' || letter === 'm') {
      roomModes += `${on ? '+' : '-'}${letter}`;
      continue;
    }
    if (letter === 'b' || letter === 'o' || letter === 'v') {
      const arg = args.shift();
      if (letter === 'b' && arg === undefined) {
        steps.push(() => banList(c, room, channel));
        continue;
      }
      if (arg === undefined || ++withParam > MAX_MODE_CHANGES) continue;
      const sign = on;
      steps.push(() =>
        letter === 'b' ? ban(c, room, channel, sign, arg) : role(c, room, channel, sign, letter, arg),
      );
      continue;
    }
    c.numeric(ERR.UNKNOWNMODE, letter, 'is unknown mode char to me');
  }
  if (roomModes !== '') {
    const answer = await c.ask({ type: 'mode', payload: { room_id: room, modes: roomModes } });
    // Answered by the room's `modes_changed`, which this client renders as everybody's MODE line.
    if (answer?.type !== 'modes_changed') refused(c, 'MODE', channel, errorOf(answer));
    else c.send(...c.chans.modesChanged(answer.payload));
  }
  for (const step of steps) await step();
}

async function banList(c: IrcContext, room: string, channel: string): Promise<void> {
  const answer = await c.ask({ type: 'ban', payload: { room_id: room } });
  // The list is an operator's; to others it is empty, as clients ask for it on every join.
  if (answer?.type === 'bans')
    for (const b of answer.payload.bans)
      c.numeric(
        RPL.BANLIST,
        channel,
        ircBanMask(b.mask),
        ircNick(b.set_by),
        String(Math.floor(b.set_ts / 1000)),
      );
  c.numeric(RPL.ENDOFBANLIST, channel, 'End of channel ban list');
}

async function ban(c: IrcContext, room: string, channel: string, on: boolean, arg: string): Promise<void> {
  const mask = chatBanMask(arg);
  if (mask === undefined)
    return c.fail(
      'MODE',
      'INVALID_MODE_PARAM',
      channel,
      'b',
      sanitizeText(arg),
      'A ban names a nick (nick!*@*) or an address (*!*@203.0.113.*, *!*@203.0.113.0/24)',
    );
  const nick = mask.includes('@') || mask.includes('/') ? mask : (c.options.online(mask) ?? mask);
  const answer = await c.ask({ type: on ? 'ban' : 'unban', payload: { room_id: room, mask: nick } });
  // The answer is the room's `ban_changed`: the MODE line everybody sees.
  if (answer?.type === 'ban_changed')
    return c.send({
      source: c.source,
      command: 'MODE',
      params: [
        channelOf(answer.payload.room_id),
        answer.payload.banned ? '+b' : '-b',
        ircBanMask(answer.payload.mask),
      ],
    });
  const e = errorOf(answer);
  if (e?.code === 'bad_mask' || e?.code === 'invalid_payload')
    return c.fail('MODE', 'INVALID_MODE_PARAM', channel, 'b', sanitizeText(arg), sanitizeText(e.message));
  refused(c, 'MODE', channel, e);
}

async function role(
  c: IrcContext,
  room: string,
  channel: string,
  on: boolean,
  letter: 'o' | 'v',
  arg: string,
): Promise<void> {
  const nick = c.options.online(arg) ?? arg;
  // One role each: `-v` must not take an operator's status away, nor `+v` turn it into voice.
  const held = c.chans.letterOf(room, nick);
  if (held !== undefined && held !== letter) return;
  const answer = await c.ask({
    type: 'role',
    payload: { room_id: room, user_name: nick, role: on ? (letter === 'o' ? 'operator' : 'voice') : 'none' },
  });
  if (answer?.type === 'role_changed') return c.send(...c.chans.roleChanged(answer.payload));
  const e = errorOf(answer);
  if (e?.code === 'no_such_user')
    return c.numeric(ERR.USERNOTINCHANNEL, ircNick(arg), channel, "They aren't on that channel");
  refused(c, 'MODE', channel, e);
}

function errorOf(answer: { type: string; payload: unknown } | undefined): ProtocolError | undefined {
  return answer?.type === 'error' ? (answer.payload as ProtocolError) : undefined;
}
