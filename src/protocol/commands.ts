/**
 * The slash-command table shared by every client (the TUI, the TCP line door, the browser page):
 * one place says which commands exist, their arguments, their help, and which request each one
 * sends (`commandAction`). A client adds only what is its own: how it shows a reply, its local
 * state, and its client-only commands (the TUI's /window, /ignore...).
 */

import { MODERATION_COMMANDS, type ModerationCommand } from './moderation-commands.js';
import { sanitizeText } from './sanitize.js';
// Type-only: the browser loads this module as built, with the sanitiser as its only import.
import type { ClientMessage } from './schema.js';

/** A parsed slash command. */
export type Command =
  | { name: 'join'; room: string }
  | { name: 'leave'; room?: string }
  | { name: 'users'; room?: string }
  | { name: 'rooms'; filter?: string; more?: boolean }
  | { name: 'msg'; to: string; text: string }
  | { name: 'nick'; nick: string }
  | { name: 'register'; password: string }
  | { name: 'show'; room: string; seq: number }
  | { name: 'help'; topic?: string }
  | { name: 'me'; text: string }
  | { name: 'away'; message?: string }
  | { name: 'whois'; nick: string }
  | { name: 'quit'; reason?: string }
  | ModerationCommand;

/** The name of a command in the table. */
export type CommandName = Command['name'];

/** The outcome of parsing one input line. */
export type ParsedLine =
  { kind: 'text'; text: string } | { kind: 'command'; command: Command } | { kind: 'error'; message: string };

/**
 * What reading a command's arguments gives: the command, or what is wrong with them (a result,
 * never a string to tell apart by its wording: `/join needs-help` is a room called needs-help).
 */
export type BuildResult<N extends CommandName = CommandName> =
  { ok: true; command: Extract<Command, { name: N }> } | { ok: false; error: string };

/** A request a command sends, as it goes on the wire without its `ref` (the client adds one). */
export type CommandRequest = {
  [T in ClientMessage['type']]: Omit<Extract<ClientMessage, { type: T }>, 'ref'>;
}[ClientMessage['type']];

/**
 * Where the client is, as far as the table needs to know: the room a command without a room
 * argument means, and where `/rooms more` picks up (the last `rooms` reply's `next_cursor`,
 * with the filter that page was asked with).
 */
export interface CommandContext {
  room?: string | undefined;
  roomsNext?: { cursor: string; filter?: string | undefined } | undefined;
}

/**
 * What a command asks for: a request for the server; the help text or the end of the chat,
 * which the client does itself; or nothing, with a reason the client words its own way.
 */
export type CommandAction =
  | { kind: 'request'; request: CommandRequest }
  | { kind: 'help'; topic?: string }
  | { kind: 'quit'; reason?: string }
  | { kind: 'refused'; reason: 'no_room' | 'no_more_rooms'; message: string };

interface Spec<N extends CommandName> {
  usage: string;
  help: string;
  aliases?: string[];
  /** Builds the command from the words after the name and the raw rest of the line. */
  build(args: string[], rest: string): BuildResult<N>;
  /** The request (or local action) the command stands for, wherever the client is. */
  action(command: Extract<Command, { name: N }>, context: CommandContext): CommandAction;
}

const ok = <N extends CommandName>(command: Extract<Command, { name: N }>): BuildResult<N> => ({
  ok: true,
  command,
});
const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
const request = (req: CommandRequest): CommandAction => ({ kind: 'request', request: req });
const noRoom = (usage: string): CommandAction => ({
  kind: 'refused',
  reason: 'no_room',
  message: `you are in no room; ${usage}`,
});

/** The command table: name -> usage, help, argument rules and the request it sends. */
export const COMMANDS: { [N in CommandName]: Spec<N> } = {
  join: {
    usage: '/join <room>',
    help: 'join a room (created if it does not exist) and switch to it',
    aliases: ['j'],
    build: (args) =>
      args.length === 1 ? ok({ name: 'join', room: stripHash(args[0]!) }) : fail('needs exactly one room'),
    action: (c) => request({ type: 'join', payload: { room_id: c.room } }),
  },
  leave: {
    usage: '/leave [room]',
    help: 'leave the given room, or the current one',
    aliases: ['part'],
    build: (args) =>
      args.length > 1
        ? fail('takes at most one room')
        : ok(args[0] ? { name: 'leave', room: stripHash(args[0]) } : { name: 'leave' }),
    action: (c, where) => {
      const room = c.room ?? where.room;
      return room === undefined
        ? noRoom('/leave <room>')
        : request({ type: 'leave', payload: { room_id: room } });
    },
  },
  users: {
    usage: '/users [room]',
    help: 'list who is in the current room',
    aliases: ['names', 'who'],
    build: (args) =>
      args.length > 1
        ? fail('takes at most one room')
        : ok(args[0] ? { name: 'users', room: stripHash(args[0]) } : { name: 'users' }),
    action: (c, where) => {
      const room = c.room ?? where.room;
      return room === undefined
        ? noRoom('/users <room>')
        : request({ type: 'users', payload: { room_id: room } });
    },
  },
  rooms: {
    usage: '/rooms [filter | more]',
    help: 'list the rooms on the server, busiest first, a page at a time (filter: part of an id or name; more: the next page)',
    aliases: ['list'],
    build: (args) => {
      if (args.length > 1) return fail('takes at most one filter word');
      if (args[0] === undefined) return ok({ name: 'rooms' });
      if (args[0].toLowerCase() === 'more') return ok({ name: 'rooms', more: true });
      return ok({ name: 'rooms', filter: stripHash(args[0]) });
    },
    action: (c, where) => {
      if (c.more) {
        const next = where.roomsNext;
        if (next === undefined)
          return {
            kind: 'refused',
            reason: 'no_more_rooms',
            message: 'no more rooms to list; /rooms [filter] starts again',
          };
        return request({
          type: 'rooms',
          payload: { cursor: next.cursor, ...(next.filter !== undefined ? { filter: next.filter } : {}) },
        });
      }
      return request({ type: 'rooms', payload: c.filter !== undefined ? { filter: c.filter } : {} });
    },
  },
  msg: {
    usage: '/msg <nick> <text>',
    help: 'send a direct message',
    aliases: ['query', 'dm'],
    build: (args, rest) => {
      const to = args[0];
      const text = rest.slice(rest.indexOf(to ?? '') + (to?.length ?? 0)).replace(/^\s/, '');
      if (!to || text.trim() === '') return fail('needs a nick and a message');
      return ok({ name: 'msg', to, text });
    },
    action: (c) => request({ type: 'dm', payload: { to: c.to, message: c.text } }),
  },
  nick: {
    usage: '/nick <name>',
    help: 'change your nick',
    build: (args) =>
      args.length === 1 ? ok({ name: 'nick', nick: args[0]! }) : fail('needs exactly one nick'),
    action: (c) => request({ type: 'nick', payload: { user_name: c.nick } }),
  },
  register: {
    usage: '/register <password>',
    help: 'register your current nick with a password (8+ characters)',
    build: (_args, rest) =>
      rest.trim() === '' ? fail('needs a password') : ok({ name: 'register', password: rest.trim() }),
    action: (c) => request({ type: 'register', payload: { password: c.password } }),
  },
  show: {
    usage: '/show <room> <seq>',
    help: 'show the whole of a long message (line clients see the first lines)',
    build: (args) => {
      const [room, seq] = args;
      if (args.length !== 2 || room === undefined || seq === undefined || !/^\d{1,15}$/.test(seq))
        return fail('needs a room and a message number');
      return ok({ name: 'show', room: stripHash(room), seq: Number(seq) });
    },
    // The one message at that seq: a page of one ending there.
    action: (c) =>
      request({ type: 'history', payload: { room_id: c.room, before_seq: c.seq + 1, limit: 1 } }),
  },
  help: {
    usage: '/help [command]',
    help: 'show the commands, or one command',
    aliases: ['h', '?'],
    build: (args) => ok(args[0] ? { name: 'help', topic: args[0].replace(/^\//, '') } : { name: 'help' }),
    action: (c) => (c.topic !== undefined ? { kind: 'help', topic: c.topic } : { kind: 'help' }),
  },
  me: {
    usage: '/me <action>',
    help: 'say what you do: /me waves shows as * you waves',
    aliases: ['action'],
    build: (_args, rest) => (rest.trim() === '' ? fail('needs an action') : ok({ name: 'me', text: rest })),
    action: (c, where) =>
      where.room === undefined
        ? noRoom('/join a room first')
        : request({ type: 'message', payload: { room_id: where.room, message: c.text, kind: 'action' } }),
  },
  away: {
    usage: '/away [message]',
    help: 'mark yourself away with a message; /away alone says you are back',
    build: (_args, rest) =>
      ok(rest.trim() === '' ? { name: 'away' } : { name: 'away', message: rest.trim() }),
    action: (c) => request({ type: 'away', payload: c.message !== undefined ? { message: c.message } : {} }),
  },
  whois: {
    usage: '/whois <nick>',
    help: 'who a nick is: registered, away, idle, and the rooms you share',
    aliases: ['wi'],
    build: (args) =>
      args.length === 1 ? ok({ name: 'whois', nick: args[0]! }) : fail('needs exactly one nick'),
    action: (c) => request({ type: 'whois', payload: { user_name: c.nick } }),
  },
  quit: {
    usage: '/quit [reason]',
    help: 'leave the chat; the others see the reason',
    aliases: ['exit', 'q'],
    build: (_args, rest) => ok(rest.trim() === '' ? { name: 'quit' } : { name: 'quit', reason: rest.trim() }),
    action: (c) => (c.reason !== undefined ? { kind: 'quit', reason: c.reason } : { kind: 'quit' }),
  },
  ...MODERATION_COMMANDS,
};

/**
 * What a parsed command asks for where the client is now: the one mapping from slash commands
 * to requests that the TUI, the TCP door and the browser page share.
 */
export function commandAction(command: Command, context: CommandContext = {}): CommandAction {
  // The table is keyed by name, so the entry always takes this command; TypeScript cannot see that through the union.
  const spec = COMMANDS[command.name] as Spec<CommandName>;
  return spec.action(command, context);
}

function stripHash(room: string): string {
  return room.startsWith('#') ? room.slice(1) : room;
}

const BY_NAME = new Map<string, CommandName>();
for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, Spec<CommandName>][]) {
  BY_NAME.set(name, name);
  for (const alias of spec.aliases ?? []) BY_NAME.set(alias, name);
}

/** Resolves a command name or alias (without the slash). */
export function lookupCommand(word: string): CommandName | undefined {
  return BY_NAME.get(word.toLowerCase());
}

/** Every command name with its usage, for completion and help. */
export function commandNames(): CommandName[] {
  return Object.keys(COMMANDS) as CommandName[];
}

/** Help lines: one per command, or the one asked for. */
export function helpLines(topic?: string): string[] {
  if (topic !== undefined) {
    const name = lookupCommand(topic);
    if (!name) return [`no command /${topic}; /help lists them`];
    const spec = COMMANDS[name];
    return [`${spec.usage}  ${spec.help}`];
  }
  return commandNames().map((name) => `${COMMANDS[name].usage.padEnd(22)} ${COMMANDS[name].help}`);
}

/**
 * Parses one input line. `//text` sends `/text` literally; a line that does not start with `/`
 * is text for the current room.
 */
export function parseLine(line: string): ParsedLine {
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  const body = line.slice(1);
  const match = /^(\S*)\s*([\s\S]*)$/.exec(body);
  const word = match?.[1] ?? '';
  const rest = match?.[2] ?? '';
  const name = lookupCommand(word);
  if (!name)
    return {
      kind: 'error',
      message: `unknown command /${sanitizeText(word).slice(0, 32)}; /help lists the commands`,
    };
  const spec = COMMANDS[name];
  const args = rest.split(/\s+/).filter((a) => a.length > 0);
  const built = spec.build(args, rest);
  // Named as typed: `/query bob` must not answer with an error about /msg.
  if (!built.ok) {
    const typed = `/${sanitizeText(word).toLowerCase()}`;
    return { kind: 'error', message: `${typed} ${built.error}: ${spec.usage.replace(/^\/\S+/, typed)}` };
  }
  return { kind: 'command', command: built.command };
}
