/**
 * The page's one door to the shared slash-command table (src/protocol/commands.ts), which the TUI
 * and the TCP door parse through too. Only this file knows the parser's result shape, so a change
 * to it (one command table for every client) is a change here alone.
 */
import { parseLine, type Command } from '../protocol/commands.js';

export { COMMANDS, commandAction, helpLines, lookupCommand, parseLine } from '../protocol/commands.js';
export type { Command } from '../protocol/commands.js';

/** One line from the composer, read: text to send, a command to run, or why it is refused. */
export type Input =
  { kind: 'text'; text: string } | { kind: 'command'; command: Command } | { kind: 'error'; message: string };

/** Reads one composer line through the shared parser. */
export function readInput(line: string): Input {
  const parsed = parseLine(line);
  switch (parsed.kind) {
    case 'text':
      return { kind: 'text', text: parsed.text };
    case 'command':
      return { kind: 'command', command: parsed.command };
    case 'error':
      return { kind: 'error', message: parsed.message };
  }
}
