/**
 * The slash-command table shared by the TUI and the TCP line transport: one place says which
 * commands exist, their arguments and their help, and both front ends parse through it.
 */

import { sanitizeText } from './sanitize.js';

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
  | { name: 'quit' };

/** The name of a command in the table. */
export type CommandName = Command['name'];

/** The outcome of parsing one input line. */
export type ParsedLine =
  | { kind: 'text'; text: string }
  | { kind: 'command'; command: Command }
  | { kind: 'error'; message: string };

interface Spec {
  usage: string;
  help: string;
  aliases?: string[];
  /** Builds the command from the words after the name and the raw rest of the line. */
  build(args: string[], rest: string): Command | string;
}

const one = (what: string) => (args: string[]) => (args.length === 1 ? args[0]! : `needs exactly one ${what}`);

/** The command table: name -> usage, help and argument rules. */
export const COMMANDS: Record<CommandName, Spec> = {
  join: {
    usage: '/join <room>',
    help: 'join a room (created if it does not exist) and switch to it',
    aliases: ['j'],
    build: (args) => {
      const room = one('room')(args);
      return room.startsWith('needs') ? room : { name: 'join', room: stripHash(room) };
    },
  },
  leave: {
    usage: '/leave [room]',
    help: 'leave the given room, or the current one',
    aliases: ['part'],
    build: (args) => (args.length > 1 ? 'takes at most one room' : args[0] ? { name: 'leave', room: stripHash(args[0]) } : { name: 'leave' }),
  },
  users: {
    usage: '/users [room]',
    help: 'list who is in the current room',
    aliases: ['names', 'who'],
    build: (args) => (args.length > 1 ? 'takes at most one room' : args[0] ? { name: 'users', room: stripHash(args[0]) } : { name: 'users' }),
  },
  rooms: {
    usage: '/rooms [filter | more]',
    help: 'list the rooms on the server, busiest first, a page at a time (filter: part of an id or name; more: the next page)',
    aliases: ['list'],
    build: (args) => {
      if (args.length > 1) return 'takes at most one filter word';
      if (args[0] === undefined) return { name: 'rooms' };
      if (args[0].toLowerCase() === 'more') return { name: 'rooms', more: true };
      return { name: 'rooms', filter: stripHash(args[0]) };
    },
  },
  msg: {
    usage: '/msg <nick> <text>',
    help: 'send a direct message',
    aliases: ['query', 'dm'],
    build: (args, rest) => {
      const to = args[0];
      const text = rest.slice(rest.indexOf(to ?? '') + (to?.length ?? 0)).replace(/^\s/, '');
      if (!to || text.trim() === '') return 'needs a nick and a message';
      return { name: 'msg', to, text };
    },
  },
  nick: {
    usage: '/nick <name>',
    help: 'change your nick',
    build: (args) => {
      const nick = one('nick')(args);
      return nick.startsWith('needs') ? nick : { name: 'nick', nick };
    },
  },
  register: {
    usage: '/register <password>',
    help: 'register your current nick with a password (8+ characters)',
    build: (_args, rest) => (rest.trim() === '' ? 'needs a password' : { name: 'register', password: rest.trim() }),
  },
  show: {
    usage: '/show <room> <seq>',
    help: 'show the whole of a long message (line clients see the first lines)',
    build: (args) => {
      const [room, seq] = args;
      if (args.length !== 2 || room === undefined || seq === undefined || !/^\d{1,15}$/.test(seq)) return 'needs a room and a message number';
      return { name: 'show', room: stripHash(room), seq: Number(seq) };
    },
  },
  help: {
    usage: '/help [command]',
    help: 'show the commands, or one command',
    aliases: ['h', '?'],
    build: (args) => (args[0] ? { name: 'help', topic: args[0].replace(/^\//, '') } : { name: 'help' }),
  },
  quit: {
    usage: '/quit',
    help: 'leave the chat',
    aliases: ['exit', 'q'],
    build: () => ({ name: 'quit' }),
  },
};

function stripHash(room: string): string {
  return room.startsWith('#') ? room.slice(1) : room;
}

const BY_NAME = new Map<string, CommandName>();
for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, Spec][]) {
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
  if (!name) return { kind: 'error', message: `unknown command /${sanitizeText(word).slice(0, 32)}; /help lists the commands` };
  const spec = COMMANDS[name];
  const args = rest.split(/\s+/).filter((a) => a.length > 0);
  const built = spec.build(args, rest);
  // Named as typed: `/query bob` must not answer with an error about /msg.
  if (typeof built === 'string') {
    const typed = `/${sanitizeText(word).toLowerCase()}`;
    return { kind: 'error', message: `${typed} ${built}: ${spec.usage.replace(/^\/\S+/, typed)}` };
  }
  return { kind: 'command', command: built };
}
