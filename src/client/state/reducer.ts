import { commandNames } from '../../protocol/commands.js';
import { sanitizeText } from '../../protocol/sanitize.js';
import type { Action } from './actions.js';
import { completeInput } from './completion.js';
import {
  addConversation,
  addNotice,
  closeConversation,
  newConversation,
  select,
  updateConversation,
} from './conversations.js';
import {
  backspace,
  deleteWord,
  emptyInput,
  readlineEdit,
  upOrHistory,
  historyNext,
  historyPrev,
  insertText,
  moveCursor,
  submit,
} from './input.js';
import { joinFailed, joinRequested } from './join.js';
import { dmId } from './mention.js';
import { countAlert } from './alerts.js';
import { CLIENT_COMMAND_NAMES } from '../tui/tui-commands.js';
import { reduceServerEvent } from './server-events.js';
import { isViewAction, reduceViewAction } from './view-actions.js';
import { sanitizeEvent } from './sanitize-event.js';
import type { ChatState, InputState } from './types.js';

export type { Action } from './actions.js';
export type * from './types.js';

/** The state before anything happened. */
export function initialState(server: string, nick: string): ChatState {
  return {
    server,
    nick,
    identified: false,
    status: { state: 'connecting' },
    lagMs: null,
    order: [],
    conversations: {},
    current: null,
    system: [],
    input: emptyInput(),
    nickPrompt: null,
    knownRooms: [],
    roomsCursor: null,
    nextKey: 0,
    previous: null,
    jump: null,
    showQuiet: false,
    bare: false,
    nicklist: true,
    ignores: [],
    alerts: 0,
    replyTo: {},
  };
}

/**
 * The client's whole state machine: `(state, action) => state`, pure, no clock and no I/O (the
 * time arrives inside the actions). Every string from the network is sanitised on the way in.
 */
export function reducer(state: ChatState, action: Action): ChatState {
  switch (action.type) {
    case 'server': {
      const event = sanitizeEvent(action.event);
      return countAlert(state, reduceServerEvent(state, event, action.now), event);
    }
    case 'status':
      return status(state, action.status);
    case 'lag':
      return state.lagMs === action.ms ? state : { ...state, lagMs: action.ms };
    case 'nick_rejected': {
      const nick = sanitizeText(action.nick);
      // The server's text for a registered nick speaks protocol (`hello {user_name, password}`);
      // the user needs to know what to type here.
      const text =
        action.code === 'nick_registered'
          ? `${nick} is registered: type "${nick} <password>" and press Enter to sign in, or type another nick`
          : `${sanitizeText(action.message)}: type another nick and press Enter`;
      const next: ChatState = {
        ...state,
        identified: false,
        nickPrompt: {
          nick,
          message: sanitizeText(action.message),
          needsPassword: action.code === 'nick_registered',
        },
      };
      return addNotice(next, next.current, text, 'error', action.now);
    }
    case 'nick_chosen':
      return { ...state, nick: action.nick, nickPrompt: null };
    case 'notice':
      return addNotice(state, state.current, action.text, action.tone, action.now);
    case 'select':
      return action.id === state.current ? state : select(state, action.id);
    case 'select_index': {
      const id = state.order[action.index];
      return id === undefined || id === state.current ? state : select(state, id);
    }
    case 'select_relative':
      return selectRelative(state, action.delta);
    case 'open_dm': {
      const id = dmId(action.nick);
      const next = state.conversations[id]
        ? state
        : addConversation(state, newConversation(id, 'dm', action.nick));
      return select(next, id);
    }
    case 'join_requested':
      return joinRequested(state, action.roomId);
    case 'join_failed':
      return joinFailed(state, action.roomId, action.code, action.message, action.now);
    case 'close':
      return closeConversation(state, action.id);
    case 'scroll_to':
      return updateConversation(state, action.id, (c) => ({
        ...c,
        scroll: action.anchor,
        newBelow: action.anchor ? c.newBelow : 0,
      }));
    case 'history_requested':
      return updateConversation(state, action.id, (c) => ({ ...c, loadingOlder: true }));
    case 'message_pending':
      return updateConversation(state, action.roomId, (c) => ({
        ...c,
        pending: [
          ...c.pending,
          {
            clientMsgId: action.clientMsgId,
            text: action.text,
            ts: action.now,
            ...(action.action ? { action: true as const } : {}),
          },
        ],
        // Sending means you want to see the conversation live again.
        scroll: null,
        newBelow: 0,
      }));
    case 'complete':
      return withInput(state, completeInput(state.input, completionSources(state)));
    default:
      if (isViewAction(action)) return reduceViewAction(state, action);
      return withInput(state, reduceInput(state.input, action));
  }
}

function reduceInput(input: InputState, action: Action): InputState {
  switch (action.type) {
    case 'input_insert':
      return insertText(input, action.text);
    case 'input_backspace':
      return backspace(input);
    case 'input_delete_word':
      return deleteWord(input);
    case 'input_clear':
      return { ...input, text: '', cursor: 0, historyIndex: null, completion: null };
    case 'input_edit':
      return readlineEdit(input, action.op);
    case 'input_line':
      return upOrHistory(input, action.direction);
    case 'input_move':
      return moveCursor(input, action.to);
    case 'history_prev':
      return historyPrev(input);
    case 'history_next':
      return historyNext(input);
    case 'input_submit':
      return submit(input, action.record);
    default:
      return input;
  }
}

function withInput(state: ChatState, input: InputState): ChatState {
  return input === state.input ? state : { ...state, input };
}

function status(state: ChatState, incoming: ChatState['status']): ChatState {
  // A close reason is the server's text: as untrusted as any other.
  const status =
    incoming.state === 'reconnecting' && incoming.reason !== undefined
      ? { ...incoming, reason: sanitizeText(incoming.reason).slice(0, 120) }
      : incoming;
  if (status.state === 'connected' || status.state === 'identifying') return { ...state, status };
  // The link is down: every room must be rejoined before it is live again.
  const conversations: Record<string, ChatState['conversations'][string]> = {};
  for (const [id, conv] of Object.entries(state.conversations))
    conversations[id] = conv.kind === 'room' && conv.joined ? { ...conv, joined: false } : conv;
  // The last lag sample says nothing about a link that is gone.
  return { ...state, status, identified: false, lagMs: null, conversations };
}

function selectRelative(state: ChatState, delta: 1 | -1): ChatState {
  const n = state.order.length;
  if (n === 0) return state;
  const at = state.current === null ? -1 : state.order.indexOf(state.current);
  const index = at === -1 ? (delta === 1 ? 0 : n - 1) : (at + delta + n) % n;
  return select(state, state.order[index]!);
}

function completionSources(state: ChatState) {
  const current = state.current === null ? undefined : state.conversations[state.current];
  const dmPartners = state.order.flatMap((id) =>
    state.conversations[id]?.kind === 'dm' ? [state.conversations[id]!.name] : [],
  );
  const rooms = [
    ...new Set([
      ...state.order.filter((id) => state.conversations[id]?.kind === 'room'),
      ...state.knownRooms,
    ]),
  ];
  return {
    commands: [...commandNames(), ...CLIENT_COMMAND_NAMES],
    nicks: [...(current?.members ?? []), ...dmPartners],
    rooms,
    self: state.nick,
  };
}
