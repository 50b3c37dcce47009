/**
 * Commands only the terminal client has: they act on what is on screen (numbers, panes, the read
 * marker, the ignore list), so the shared table in src/protocol/commands.ts (which the TCP door
 * and the browser use too) does not carry them. They are parsed before the shared table.
 */

import { sanitizeText } from '../../protocol/sanitize.js';

/** A parsed client-only command. */
export type ClientCommand =
  | { name: 'window'; number: number }
  | { name: 'query'; nick: string; text: string }
  | { name: 'markread' }
  | { name: 'clear' }
  | { name: 'close'; room?: string }
  | { name: 'ignore'; nick?: string }
  | { name: 'unignore'; nick: string }
  | { name: 'nicklist' };

interface Spec {
  usage: string;
  help: string;
  aliases?: string[];
  build(args: string[], rest: string): ClientCommand | string;
}

const SPECS: Record<ClientCommand['name'], Spec> = {
  nicklist: {
    usage: '/nicklist',
    help: 'show or hide the nick list on the right (Alt+N; needs 120 columns)',
    build: (args) => (args.length === 0 ? { name: 'nicklist' } : 'takes no arguments'),
  },
  window: {
    usage: '/window <N>',
    help: 'go to conversation N (the number in the sidebar)',
    aliases: ['goto', 'buffer', 'b'],
    build: (args) =>
      args.length === 1 && /^[0-9]{1,4}$/.test(args[0]!) && Number(args[0]) > 0
        ? { name: 'window', number: Number(args[0]) }
        : 'needs the number of a conversation',
  },
  query: {
    usage: '/query <nick> [text]',
    help: 'open the conversation with nick (and send text, if any)',
    build: (args, rest) => {
      const nick = args[0];
      if (!nick) return 'needs a nick';
      return { name: 'query', nick, text: rest.slice(rest.indexOf(nick) + nick.length).replace(/^\s/, '') };
    },
  },
  markread: {
    usage: '/markread',
    help: 'drop the -- unread -- line here (Alt+U)',
    build: () => ({ name: 'markread' }),
  },
  clear: {
    usage: '/clear',
    help: 'empty this pane (the server keeps the history: PgUp loads it again)',
    build: () => ({ name: 'clear' }),
  },
  close: {
    usage: '/close [room]',
    help: 'leave the room, or close this direct conversation',
    build: (args) =>
      args.length > 1
        ? 'takes at most one room'
        : args[0]
          ? { name: 'close', room: args[0].replace(/^#/, '') }
          : { name: 'close' },
  },
  ignore: {
    usage: '/ignore [nick]',
    help: "hide a nick's messages, DMs, joins and leaves (kept in the config); alone, lists them",
    build: (args) =>
      args.length > 1 ? 'takes one nick' : args[0] ? { name: 'ignore', nick: args[0] } : { name: 'ignore' },
  },
  unignore: {
    usage: '/unignore <nick>',
    help: 'show a nick again (from its next message)',
    build: (args) => (args.length === 1 ? { name: 'unignore', nick: args[0]! } : 'needs one nick'),
  },
};

const BY_NAME = new Map<string, ClientCommand['name']>();
for (const [name, spec] of Object.entries(SPECS) as [ClientCommand['name'], Spec][]) {
  BY_NAME.set(name, name);
  for (const alias of spec.aliases ?? []) BY_NAME.set(alias, name);
}

/** The client-only command names, for Tab completion. */
export const CLIENT_COMMAND_NAMES: readonly string[] = Object.keys(SPECS);

/** Help lines for the client-only commands (after the shared ones in /help). */
export function clientHelpLines(topic?: string): string[] | undefined {
  if (topic !== undefined) {
    const name = BY_NAME.get(topic.toLowerCase());
    return name ? [`${SPECS[name].usage}  ${SPECS[name].help}`] : undefined;
  }
  return Object.values(SPECS).map((spec) => `${spec.usage.padEnd(22)} ${spec.help}`);
}

/**
 * Parses `line` when it is one of the client's own commands; undefined otherwise (the shared
 * table gets it). Errors name the command as it was typed.
 */
export function parseClientLine(
  line: string,
): { kind: 'command'; command: ClientCommand } | { kind: 'error'; message: string } | undefined {
  const match = /^\/([^\s/]\S*)\s*([\s\S]*)$/.exec(line);
  if (!match) return undefined;
  const word = match[1]!;
  const rest = match[2]!;
  const name = BY_NAME.get(word.toLowerCase());
  if (!name) return undefined;
  const spec = SPECS[name];
  const built = spec.build(
    rest.split(/\s+/).filter((a) => a.length > 0),
    rest,
  );
  if (typeof built !== 'string') return { kind: 'command', command: built };
  const typed = `/${sanitizeText(word).toLowerCase()}`;
  return { kind: 'error', message: `${typed} ${built}: ${spec.usage.replace(/^\/\S+/, typed)}` };
}
