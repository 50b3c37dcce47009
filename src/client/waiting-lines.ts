import { parseLine } from '../protocol/commands.js';
import { parseClientLine } from './tui/tui-commands.js';
import type { ChatState } from './state/types.js';

/**
 * Whether a submitted line cannot run yet and must wait for the server, rather than fail: a
 * line typed in the first second after start (before `welcome`, or before the first room is
 * joined) would otherwise be refused as "not connected" or "not in a room", and the user would
 * not even see the refusal in the pane that appears a moment later.
 *
 * - A command that needs the server (/msg, /users, /nick, /leave...) waits until we are
 *   identified; one that only acts on the screen (/help, /window, /quit) runs now; a line that
 *   does not parse runs now, to show its error.
 * - Chat text waits while no room has been joined yet (`hadRoom`: some room was open once, so
 *   an empty sidebar now means the user left them all). Once a room is open, its messages go to
 *   the connection, which holds them until that room's `joined` (shown as sending meanwhile);
 *   text in a DM needs the server like /msg.
 */
export function mustWait(line: string, state: ChatState, hadRoom: boolean): boolean {
  const ready = state.identified;
  const local = parseClientLine(line);
  if (local) {
    if (local.kind === 'error') return false;
    const command = local.command;
    if (command.name === 'query') return command.text.trim() !== '' && !ready;
    return command.name === 'close' && !ready;
  }
  const parsed = parseLine(line);
  if (parsed.kind === 'error') return false;
  if (parsed.kind === 'command') {
    switch (parsed.command.name) {
      case 'help':
      case 'quit':
      case 'show':
      case 'join':
        // /join works offline: the connection asks for the room once it is identified.
        return false;
      default:
        return !ready;
    }
  }
  if (parsed.text.trim() === '') return false;
  const conv = state.current === null ? undefined : state.conversations[state.current];
  if (!conv) return !hadRoom;
  return conv.kind === 'dm' && !ready;
}

/** The notice shown while lines wait. */
export function waitingNotice(count: number): string {
  return `waiting for the server: ${count} line${count === 1 ? '' : 's'} queued (sent in order once connected)`;
}
