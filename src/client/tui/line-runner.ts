import { commandAction, helpLines, parseLine, type Command } from '../../protocol/commands.js';
import { ROOM_ID_PATTERN } from '../../protocol/limits.js';
import { checkNick } from '../../protocol/nick.js';
import { sameRoom } from '../../protocol/room-key.js';
import { clientHelpLines, parseClientLine, type ClientCommand } from './tui-commands.js';
import type { ChatConnection, OutgoingRequest } from '../server-link-types.js';
import { sameNick } from '../state/mention.js';
import { mustWait, waitingNotice } from '../waiting-lines.js';
import type { Action } from '../state/actions.js';
import type { Conversation } from '../state/types.js';
import type { Store } from '../state/state-store.js';

/** Key help shown by /help after the command table. */
export const KEY_HELP = [
  'keys: Ctrl+N/Ctrl+P next/previous room, Alt+1..9 room N, Alt+J then two digits room NN (Alt+J 1 2: room 12)',
  '      Alt+A next room with activity (mentions and DMs first; none: back to the previous room)',
  '      Alt+U drops the -- unread -- line, Alt+= shows/hides joins and leaves of people who have not spoken lately',
  '      Alt+L bare view (no sidebar, no indent) for copying text and links; Alt+N nick list on/off',
  'lines typed before the server is ready are not lost: they wait ("waiting for the server: N lines queued") and go out in order',
  '      PgUp/PgDn scroll, End back to live, Up/Down input history, Tab completes, Alt+Enter newline, Ctrl+C quits',
  '      Delete/Ctrl+D delete under the cursor, Ctrl+K/Ctrl+U/Ctrl+W kill, Ctrl+Y yank, Ctrl+Left/Right word, Alt+S send a pasted draft as lines',
];

/** What running a line needs. */
export interface LineRunnerDeps {
  store: Store;
  connection: ChatConnection;
  quit(): void;
  now(): number;
}

/** Runs what Enter submits: a chat line, a slash command, or the answer to the nick prompt. */
export interface LineRunner {
  /**
   * Takes the input line, clears it (recording it in the history unless secret) and runs it,
   * or, when it needs a server that is not ready yet, queues it behind the lines already waiting.
   */
  submit(): void;
  /** Runs the queued lines that can run now, in the order typed (call after each server signal). */
  drain(): void;
  /** How many lines are waiting for the server. */
  waiting(): number;
}

/**
 * Slash commands come from the shared table in src/protocol/commands.ts, which also says which
 * request each sends (the TCP door and the browser page use it too); this adds what the TUI keeps
 * itself, and its client-only commands (tui-commands.ts) on top.
 */
export function createLineRunner(deps: LineRunnerDeps): LineRunner {
  const { store, connection, now } = deps;
  const dispatch = (action: Action) => store.dispatch(action);
  const state = () => store.getState();
  /** The filter of the last /rooms, which `/rooms more` pages on with. */
  let roomsFilter: string | undefined;
  const current = (): Conversation | undefined => {
    const s = state();
    return s.current === null ? undefined : s.conversations[s.current];
  };
  const notice = (text: string, tone: 'info' | 'error' = 'info') =>
    dispatch({ type: 'notice', text, tone, now: now() });
  const offline = () => notice('not connected to the server; try again once reconnected', 'error');

  /** Lines that need the server, typed before it was ready: run in order by drain(). */
  const queue: string[] = [];
  /** Some room was open once: from then on, no room means the user left them all. */
  let hadRoom = false;
  const noteRooms = () => {
    if (state().current !== null) hadRoom = true;
  };

  function submit(): void {
    const s = state();
    const line = s.input.text;
    if (s.nickPrompt) {
      dispatch({ type: 'input_submit', record: false });
      answerNickPrompt(line);
      return;
    }
    noteRooms();
    const parsed = parseClientLine(line) ? undefined : parseLine(line);
    const secret = parsed?.kind === 'command' && parsed.command.name === 'register';
    dispatch({ type: 'input_submit', record: !secret });
    // Once one line waits, the ones after it wait too, so they still go out in the order typed
    // (/quit excepted: leaving is never held up).
    const isQuit = parsed?.kind === 'command' && parsed.command.name === 'quit';
    if (!isQuit && (queue.length > 0 || mustWait(line, state(), hadRoom))) {
      queue.push(line);
      notice(waitingNotice(queue.length));
      return;
    }
    execute(line);
  }

  function drain(): void {
    noteRooms();
    while (queue.length > 0 && !state().nickPrompt && !mustWait(queue[0]!, state(), hadRoom))
      execute(queue.shift()!);
  }

  function execute(line: string): void {
    const local = parseClientLine(line);
    if (local) {
      if (local.kind === 'error') notice(local.message, 'error');
      else runClient(local.command);
      return;
    }
    const parsed = parseLine(line);
    if (parsed.kind === 'error') notice(parsed.message, 'error');
    else if (parsed.kind === 'command') run(parsed.command);
    else if (parsed.text.trim() !== '') say(parsed.text);
  }

  function answerNickPrompt(line: string): void {
    const [nick = '', ...rest] = line.trim().split(/\s+/);
    const check = checkNick(nick);
    if (!check.ok) {
      notice(`${check.reason}; type another nick`, 'error');
      return;
    }
    const password = rest.join(' ');
    dispatch({ type: 'nick_chosen', nick: check.nick });
    connection.identify(check.nick, password === '' ? undefined : password);
  }

  function say(text: string): void {
    const conv = current();
    if (!conv) {
      notice('you are not in a room: /join <room> first', 'error');
      return;
    }
    if (conv.joinRequest === 'failed') {
      notice(`not sent: you are not in #${conv.id} (/join ${conv.id} tries again)`, 'error');
      return;
    }
    if (conv.kind === 'room') {
      // Queued while offline or joining and sent once the room is joined, so it is shown as
      // "sending" right away.
      const clientMsgId = connection.sendMessage(conv.id, text);
      dispatch({ type: 'message_pending', roomId: conv.id, clientMsgId, text, now: now() });
      return;
    }
    sendDm(conv.id, conv.name, text);
  }

  /** A DM is shown as sending until the server echoes it (or refuses it, e.g. nobody online). */
  function sendDm(convId: string, to: string, text: string, kind?: 'action'): void {
    const ref = connection.send({
      type: 'dm',
      payload: { to, message: text, ...(kind !== undefined ? { kind } : {}) },
    });
    if (ref === undefined) offline();
    else
      dispatch({
        type: 'message_pending',
        roomId: convId,
        clientMsgId: ref,
        text,
        now: now(),
        ...(kind === 'action' ? { action: true as const } : {}),
      });
  }

  /**
   * Sends a request whose reply is shown where it was typed (the reply may come after the user
   * switched elsewhere). False when offline (and says so).
   */
  function request(req: OutgoingRequest): boolean {
    const ref = connection.send(req);
    if (ref === undefined) {
      offline();
      return false;
    }
    dispatch({ type: 'request_sent', ref, target: state().current });
    return true;
  }

  function runClient(command: ClientCommand): void {
    const s = state();
    switch (command.name) {
      case 'window': {
        const id = s.order[command.number - 1];
        if (id === undefined)
          notice(`no conversation ${command.number}: there are ${s.order.length}`, 'error');
        else dispatch({ type: 'select', id });
        return;
      }
      case 'query': {
        const check = checkNick(command.nick);
        if (!check.ok) {
          notice(`bad nick "${command.nick}": ${check.reason}`, 'error');
          return;
        }
        dispatch({ type: 'open_dm', nick: check.nick });
        const id = state().current;
        if (id !== null && command.text.trim() !== '') sendDm(id, check.nick, command.text);
        return;
      }
      case 'nicklist':
        dispatch({ type: 'toggle_nicklist' });
        notice(
          state().nicklist
            ? 'nick list on (Alt+N or /nicklist hides it; it needs a terminal 120 columns wide)'
            : 'nick list off (Alt+N or /nicklist shows it)',
        );
        return;
      case 'markread':
        if (s.current !== null) dispatch({ type: 'mark_read', id: s.current });
        return;
      case 'clear':
        if (s.current !== null) dispatch({ type: 'clear_pane', id: s.current });
        return;
      case 'close':
        run(command.room === undefined ? { name: 'leave' } : { name: 'leave', room: command.room });
        return;
      case 'ignore':
        if (command.nick === undefined) {
          notice(s.ignores.length === 0 ? 'nobody is ignored' : `ignored: ${s.ignores.join(', ')}`);
          return;
        }
        dispatch({ type: 'ignore', nick: command.nick });
        notice(
          `ignoring ${command.nick}: their messages, DMs, joins and leaves are not shown (/unignore ${command.nick})`,
        );
        return;
      case 'unignore':
        if (!state().ignores.some((n) => sameNick(n, command.nick))) {
          notice(`${command.nick} is not ignored`, 'error');
          return;
        }
        dispatch({ type: 'unignore', nick: command.nick });
        notice(`${command.nick} is no longer ignored`);
        return;
    }
  }

  /**
   * Runs a shared command. What it sends comes from the shared table (`commandAction`); the TUI
   * adds its own part first: its conversations (join, leave, msg), nick checks before asking the
   * server, and /show (messages are shown whole here).
   */
  function run(command: Command): void {
    switch (command.name) {
      case 'join': {
        if (!ROOM_ID_PATTERN.test(command.room)) {
          notice(`bad room name "${command.room}": use 1-64 letters, digits, "_", "-" or "."`, 'error');
          return;
        }
        // Rooms compare without case: `/join DEV` switches to #dev when we are in it.
        const s = state();
        const typed = command.room;
        const roomId =
          s.order.find((id) => s.conversations[id]?.kind === 'room' && sameRoom(id, typed)) ?? typed;
        const known = s.conversations[roomId];
        dispatch({ type: 'join_requested', roomId });
        // Switching to a room we are in (or still joining) needs nothing from the server; the
        // connection sends the join itself, since it rejoins its rooms after a reconnect.
        if (!known || known.joinRequest === 'failed') connection.joinRoom(roomId);
        return;
      }
      case 'leave': {
        // A DM conversation can be left too (closed): the table knows rooms only.
        const id = command.room ?? state().current;
        const conv = id === null ? undefined : state().conversations[id];
        if (!conv) {
          notice(command.room ? `you are not in #${command.room}` : 'nothing to leave', 'error');
          return;
        }
        if (conv.kind === 'room') connection.leaveRoom(conv.id);
        dispatch({ type: 'close', id: conv.id });
        return;
      }
      case 'msg': {
        const check = checkNick(command.to);
        if (!check.ok) {
          notice(`bad nick "${command.to}": ${check.reason}`, 'error');
          return;
        }
        dispatch({ type: 'open_dm', nick: check.nick });
        const id = state().current;
        if (id !== null) sendDm(id, check.nick, command.text);
        return;
      }
      case 'nick': {
        const check = checkNick(command.nick);
        if (!check.ok) return notice(`bad nick "${command.nick}": ${check.reason}`, 'error');
        command = { name: 'nick', nick: check.nick };
        break;
      }
      case 'show':
        notice('messages are shown whole here; /show is for line clients (nc, telnet)');
        return;
      case 'me': {
        // In a room or a DM window alike: an action goes where a plain line would.
        const conv = current();
        if (!conv) return notice('you are not in a room: /join <room> first', 'error');
        if (conv.kind === 'dm') return sendDm(conv.id, conv.name, command.text, 'action');
        const clientMsgId = connection.sendMessage(conv.id, command.text, 'action');
        dispatch({
          type: 'message_pending',
          roomId: conv.id,
          clientMsgId,
          text: command.text,
          now: now(),
          action: true,
        });
        return;
      }
      case 'quit':
        // The reason goes to the server first; closing the connection then sends no other quit.
        connection.send({
          type: 'quit',
          payload: command.reason !== undefined ? { reason: command.reason } : {},
        });
        deps.quit();
        return;
      default:
        break;
    }
    const conv = current();
    const cursor = state().roomsCursor;
    const action = commandAction(command, {
      room: conv?.kind === 'room' ? conv.id : undefined,
      roomsNext: cursor === null ? undefined : { cursor, filter: roomsFilter },
    });
    switch (action.kind) {
      case 'refused':
        // In a DM or before any room: /users, /topic, /op... need a room named.
        notice(
          action.reason === 'no_room' && command.name === 'users'
            ? '/users needs a room here: /users <room>'
            : action.message,
          action.reason === 'no_room' ? 'error' : 'info',
        );
        return;
      case 'help': {
        const local = clientHelpLines(action.topic);
        const shared = helpLines(action.topic);
        // A client-only command is not in the shared table: its help alone, not "no command".
        for (const line of action.topic !== undefined && local ? local : [...shared, ...(local ?? [])])
          notice(line);
        if (action.topic === undefined) for (const line of KEY_HELP) notice(line);
        return;
      }
      case 'quit':
        deps.quit();
        return;
      case 'request':
        // `/rooms more` pages on with the filter of the listing it continues.
        if (action.request.type === 'rooms') roomsFilter = action.request.payload?.filter;
        request(action.request);
        return;
    }
  }

  return { submit, drain, waiting: () => queue.length };
}
