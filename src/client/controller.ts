import { helpLines, parseLine, type Command } from '../protocol/commands.js';
import { ROOM_ID_PATTERN } from '../protocol/limits.js';
import { checkNick } from '../protocol/nick.js';
import type { ChatConnection, ConnectionSignal } from './connection-types.js';
import type { Action } from './state/actions.js';
import type { ChatState, Conversation } from './state/types.js';
import type { Store } from './store.js';
import type { Intent } from './tui/keys.js';
import { scrollBy, visibleLines } from './tui/layout/viewport.js';
import type { ScreenLayout } from './tui/layout/screen.js';

/** Older messages fetched per page when scrolling past the top. */
export const HISTORY_PAGE = 100;

/** Key help shown by /help after the command table. */
export const KEY_HELP = [
  'keys: Ctrl+N/Ctrl+P next/previous room, Alt+1..9 room N, Alt+A next room with activity (mentions first)',
  '      PgUp/PgDn scroll, End back to live, Up/Down input history, Tab completes, Alt+Enter newline, Ctrl+C quits',
];

/** What the controller needs from the outside world. */
export interface ControllerDeps {
  store: Store;
  connection: ChatConnection;
  /** The current screen split (for paging by a screenful). */
  layout(): ScreenLayout;
  quit(): void;
  now?: () => number;
}

/** Turns intents (keys), submitted lines and connection signals into actions and requests. */
export interface Controller {
  intent(intent: Intent): void;
  signal(signal: ConnectionSignal): void;
}

/**
 * The one place with side effects: it reads the state, dispatches actions and talks to the
 * connection. Components only render and forward keys here, so all of this is testable with a
 * fake connection and no terminal.
 */
export function createController(deps: ControllerDeps): Controller {
  const { store, connection } = deps;
  const now = deps.now ?? Date.now;
  const dispatch = (action: Action) => store.dispatch(action);
  const state = () => store.getState();
  const current = (): Conversation | undefined => {
    const s = state();
    return s.current === null ? undefined : s.conversations[s.current];
  };
  const notice = (text: string, tone: 'info' | 'error' = 'info') =>
    dispatch({ type: 'notice', text, tone, now: now() });
  const offline = () => notice('not connected to the server; try again once reconnected', 'error');

  /** Scrolls by a page; at the top of a room with more history, asks for the next page. */
  function page(direction: 1 | -1): void {
    const conv = current();
    if (!conv) return;
    const { paneWidth, paneHeight } = deps.layout();
    // While scrolled, one row of the pane holds the "new messages below" line.
    const height = Math.max(1, paneHeight - 1);
    const anchor = scrollBy(conv, paneWidth, height, direction * Math.max(1, height - 1), state().nick);
    dispatch({ type: 'scroll_to', id: conv.id, anchor });
    const after = current();
    if (!after || after.kind !== 'room' || !after.hasMore || after.loadingOlder || direction !== 1) return;
    if (!visibleLines(after, paneWidth, anchor ? height : paneHeight, state().nick).atTop) return;
    const payload =
      after.oldestSeq > 0
        ? { room_id: after.id, before_seq: after.oldestSeq, limit: HISTORY_PAGE }
        : { room_id: after.id, limit: HISTORY_PAGE };
    if (connection.send({ type: 'history', payload }) !== undefined)
      dispatch({ type: 'history_requested', id: after.id });
  }

  function submit(): void {
    const s = state();
    const line = s.input.text;
    if (s.nickPrompt) {
      dispatch({ type: 'input_submit', record: false });
      answerNickPrompt(line);
      return;
    }
    const parsed = parseLine(line);
    const secret = parsed.kind === 'command' && parsed.command.name === 'register';
    dispatch({ type: 'input_submit', record: !secret });
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
    if (conv.kind === 'room') {
      // Queued while offline and resent on reconnect, so it is shown as "sending" right away.
      const clientMsgId = connection.sendMessage(conv.id, text);
      dispatch({ type: 'message_pending', roomId: conv.id, clientMsgId, text, now: now() });
      return;
    }
    if (connection.send({ type: 'dm', payload: { to: conv.name, message: text } }) === undefined) offline();
  }

  function run(command: Command): void {
    switch (command.name) {
      case 'join': {
        if (!ROOM_ID_PATTERN.test(command.room)) {
          notice(`bad room name "${command.room}": use 1-64 letters, digits, "_", "-" or "."`, 'error');
          return;
        }
        const known = state().conversations[command.room];
        dispatch({ type: 'join_requested', roomId: command.room });
        if (!known) connection.joinRoom(command.room);
        return;
      }
      case 'leave': {
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
      case 'users': {
        const roomId = command.room ?? (current()?.kind === 'room' ? current()!.id : undefined);
        if (!roomId) {
          notice('/users needs a room here: /users <room>', 'error');
          return;
        }
        if (connection.send({ type: 'users', payload: { room_id: roomId } }) === undefined) offline();
        return;
      }
      case 'rooms':
        if (connection.send({ type: 'rooms', payload: null }) === undefined) offline();
        return;
      case 'msg': {
        const check = checkNick(command.to);
        if (!check.ok) {
          notice(`bad nick "${command.to}": ${check.reason}`, 'error');
          return;
        }
        dispatch({ type: 'open_dm', nick: check.nick });
        if (connection.send({ type: 'dm', payload: { to: check.nick, message: command.text } }) === undefined)
          offline();
        return;
      }
      case 'nick': {
        const check = checkNick(command.nick);
        if (!check.ok) notice(`bad nick "${command.nick}": ${check.reason}`, 'error');
        else if (connection.send({ type: 'nick', payload: { user_name: check.nick } }) === undefined)
          offline();
        return;
      }
      case 'register':
        if (connection.send({ type: 'register', payload: { password: command.password } }) === undefined)
          offline();
        return;
      case 'help':
        for (const line of helpLines(command.topic)) notice(line);
        if (command.topic === undefined) for (const line of KEY_HELP) notice(line);
        return;
      case 'quit':
        deps.quit();
        return;
    }
  }

  return {
    intent(intent) {
      switch (intent.kind) {
        case 'quit':
          return deps.quit();
        case 'next_room':
          return dispatch({ type: 'select_relative', delta: 1 });
        case 'prev_room':
          return dispatch({ type: 'select_relative', delta: -1 });
        case 'jump':
          return dispatch({ type: 'select_index', index: intent.index });
        case 'activity':
          return dispatch({ type: 'select_activity' });
        case 'page_up':
          return page(1);
        case 'page_down':
          return page(-1);
        case 'live': {
          const conv = current();
          if (conv?.scroll) dispatch({ type: 'scroll_to', id: conv.id, anchor: null });
          return;
        }
        case 'history_prev':
          return dispatch({ type: 'history_prev' });
        case 'history_next':
          return dispatch({ type: 'history_next' });
        case 'submit':
          return submit();
        case 'insert':
          return dispatch({ type: 'input_insert', text: intent.text });
        case 'complete':
          return dispatch({ type: 'complete' });
        case 'backspace':
          return dispatch({ type: 'input_backspace' });
        case 'delete_word':
          return dispatch({ type: 'input_delete_word' });
        case 'clear_line':
          return dispatch({ type: 'input_clear' });
        case 'move':
          return dispatch({ type: 'input_move', to: intent.to });
      }
    },
    signal(signal) {
      switch (signal.kind) {
        case 'event':
          return dispatch({ type: 'server', event: signal.event, now: now() });
        case 'status':
          return dispatch({ type: 'status', status: signal.status });
        case 'lag':
          return dispatch({ type: 'lag', ms: signal.ms });
        case 'nick_rejected':
          return dispatch({
            type: 'nick_rejected',
            nick: signal.nick,
            code: signal.code,
            message: signal.message,
            now: now(),
          });
      }
    },
  };
}

/** The prompt in front of the input line. */
export function promptFor(state: ChatState): string {
  if (state.nickPrompt) return 'nick> ';
  const conv = state.current === null ? undefined : state.conversations[state.current];
  if (!conv) return '> ';
  return conv.kind === 'room' ? `#${conv.id}> ` : `@${conv.name}> `;
}

/** Where masking starts in the input line (passwords), if anywhere. */
export function inputMask(state: ChatState): number | undefined {
  const text = state.input.text;
  if (state.nickPrompt) {
    const space = text.search(/\s/);
    return space === -1 ? undefined : space + 1;
  }
  const register = /^\/register\s+/i.exec(text);
  return register ? register[0].length : undefined;
}
