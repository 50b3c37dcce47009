/**
 * The slash commands of topics and room moderation (issue 14): part of the one command table in
 * commands.ts (spread into COMMANDS there), kept here so the moderation rows read together.
 * Each takes an optional `#room` first; without it the command means the current room.
 */

// Type-only: commands.ts imports this module's value, so nothing may come back at run time.
import type { BuildResult, CommandAction, CommandContext, CommandRequest } from './commands.js';

/** The moderation commands, as parsed. */
export type ModerationCommand =
  | { name: 'topic'; room?: string; text?: string }
  | RoleCommand<'op'>
  | RoleCommand<'deop'>
  | RoleCommand<'voice'>
  | RoleCommand<'devoice'>
  | { name: 'kick'; room?: string; nick: string; reason?: string }
  | { name: 'ban'; room?: string; mask?: string }
  | { name: 'unban'; room?: string; mask: string }
  | { name: 'invite'; room?: string; nick: string }
  | { name: 'mode'; room?: string; modes?: string }
  | { name: 'kill'; nick: string; reason?: string };

/** `/op`, `/deop`, `/voice`, `/devoice`: one nick in a room. */
interface RoleCommand<N extends string> {
  name: N;
  room?: string;
  nick: string;
}

type Name = ModerationCommand['name'];

interface ModSpec<N extends Name> {
  usage: string;
  help: string;
  aliases?: string[];
  build(args: string[], rest: string): BuildResult<N>;
  action(command: Extract<ModerationCommand, { name: N }>, context: CommandContext): CommandAction;
}

const ok = <N extends Name>(command: Extract<ModerationCommand, { name: N }>): BuildResult<N> =>
  ({ ok: true, command }) as BuildResult<N>;
const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

/** The room the command names (`#room` first) and the words after it. */
function roomAndRest(args: string[], rest: string): { room?: string; args: string[]; rest: string } {
  const first = args[0];
  if (first === undefined || !first.startsWith('#') || first.length < 2) return { args, rest };
  const after = rest.slice(rest.indexOf(first) + first.length).replace(/^\s+/, '');
  return { room: first.slice(1), args: args.slice(1), rest: after };
}

/** The text after the first `n` words of `rest`, as typed (spaces inside kept). */
function textAfter(rest: string, words: number): string {
  let s = rest.replace(/^\s+/, '');
  for (let i = 0; i < words; i++) s = s.replace(/^\S+\s*/, '');
  return s.trim();
}

/** The request for the room the command names or the current one; refused without either. */
function inRoom(
  room: string | undefined,
  context: CommandContext,
  usage: string,
  make: (room: string) => CommandRequest,
): CommandAction {
  const where = room ?? context.room;
  if (where === undefined)
    return { kind: 'refused', reason: 'no_room', message: `you are in no room; ${usage}` };
  return { kind: 'request', request: make(where) };
}

function roleSpec<N extends 'op' | 'deop' | 'voice' | 'devoice'>(
  name: N,
  help: string,
  role: 'operator' | 'voice' | 'none',
): ModSpec<N> {
  const usage = `/${name} [#room] <nick>`;
  return {
    usage,
    help,
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      if (r.args.length !== 1) return fail('needs one nick');
      const command: RoleCommand<N> = { name, nick: r.args[0]! };
      if (r.room) command.room = r.room;
      return ok(command as Extract<ModerationCommand, { name: N }>);
    },
    action: (command, where) => {
      const c = command as RoleCommand<N>;
      return inRoom(c.room, where, usage, (room_id) => ({
        type: 'role',
        payload: { room_id, user_name: c.nick, role },
      }));
    },
  };
}

/** Usage, help, argument rules and request of each moderation command. */
export const MODERATION_COMMANDS: { [N in Name]: ModSpec<N> } = {
  topic: {
    usage: '/topic [#room] [text | -]',
    help: 'show the topic, set it to text, or clear it with -',
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      const text = r.rest.trim();
      return ok({ name: 'topic', ...(r.room ? { room: r.room } : {}), ...(text ? { text } : {}) });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/topic #room', (room_id) => ({
        type: 'topic',
        payload: c.text === undefined ? { room_id } : { room_id, topic: c.text === '-' ? '' : c.text },
      })),
  },
  op: roleSpec('op', 'make a registered nick an operator of the room (the owner only)', 'operator'),
  deop: roleSpec('deop', "take a nick's operator status away (the owner only)", 'none'),
  voice: roleSpec('voice', 'let a nick speak while the room is moderated (+m)', 'voice'),
  devoice: roleSpec('devoice', "take a nick's voice away", 'none'),
  kick: {
    usage: '/kick [#room] <nick> [reason]',
    help: 'remove a member from the room, with a reason (operators)',
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      const nick = r.args[0];
      if (nick === undefined) return fail('needs a nick');
      const reason = textAfter(r.rest, 1);
      return ok({ name: 'kick', nick, ...(r.room ? { room: r.room } : {}), ...(reason ? { reason } : {}) });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/kick #room <nick>', (room_id) => ({
        type: 'kick',
        payload: { room_id, user_name: c.nick, ...(c.reason !== undefined ? { reason: c.reason } : {}) },
      })),
  },
  ban: {
    usage: '/ban [#room] [nick | *@address-pattern | cidr]',
    help: 'ban a nick or addresses (e.g. *@203.0.113.* or 203.0.113.0/24) from the room; without one, list the bans (operators)',
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      if (r.args.length > 1) return fail('takes one nick or address pattern');
      return ok({
        name: 'ban',
        ...(r.room ? { room: r.room } : {}),
        ...(r.args[0] ? { mask: r.args[0] } : {}),
      });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/ban #room', (room_id) => ({
        type: 'ban',
        payload: c.mask === undefined ? { room_id } : { room_id, mask: c.mask },
      })),
  },
  unban: {
    usage: '/unban [#room] <nick | pattern>',
    help: 'lift a ban, written as /ban lists it (operators)',
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      if (r.args.length !== 1) return fail('needs one ban');
      return ok({ name: 'unban', mask: r.args[0]!, ...(r.room ? { room: r.room } : {}) });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/unban #room <ban>', (room_id) => ({
        type: 'unban',
        payload: { room_id, mask: c.mask },
      })),
  },
  invite: {
    usage: '/invite <nick> [#room]',
    help: 'invite a nick into an invite-only (+i) room (operators)',
    build: (args) => {
      const [nick, room] = args;
      if (nick === undefined || args.length > 2) return fail('needs a nick (and optionally a room)');
      return ok({ name: 'invite', nick, ...(room ? { room: room.replace(/^#/, '') } : {}) });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/invite <nick> #room', (room_id) => ({
        type: 'invite',
        payload: { room_id, user_name: c.nick },
      })),
  },
  mode: {
    usage: '/mode [#room] [+t|-t|+i|-i|+m|-m]',
    help: 'show the room modes, owner and operators, or change modes: t topic lock, i invite-only, m moderated (operators)',
    build: (args, rest) => {
      const r = roomAndRest(args, rest);
      const modes = r.args.join('');
      if (modes !== '' && !/^(?:[+-][tim]+)+$/.test(modes)) return fail('takes modes like +t, -i or +tm');
      return ok({ name: 'mode', ...(r.room ? { room: r.room } : {}), ...(modes ? { modes } : {}) });
    },
    action: (c, where) =>
      inRoom(c.room, where, '/mode #room', (room_id) => ({
        type: 'mode',
        payload: c.modes === undefined ? { room_id } : { room_id, modes: c.modes },
      })),
  },
  kill: {
    usage: '/kill <nick> [reason]',
    help: 'disconnect a user from the server (server operators)',
    build: (args, rest) => {
      const nick = args[0];
      if (nick === undefined) return fail('needs a nick');
      const reason = textAfter(rest, 1);
      return ok({ name: 'kill', nick, ...(reason ? { reason } : {}) });
    },
    action: (c) => ({
      kind: 'request',
      request: {
        type: 'kill',
        payload: { user_name: c.nick, ...(c.reason !== undefined ? { reason: c.reason } : {}) },
      },
    }),
  },
};
