import type { ErrorCode } from '../../protocol/errors.js';
import type { ServerMessage } from '../../protocol/events.js';
import type { ConnectionStatus } from '../server-link-types.js';
import type { ScrollAnchor } from './types.js';
import type { ViewAction } from './view-actions.js';

/** Every way the client state can change. The reducer is the only place that applies them. */
export type Action =
  /** An event from the server; `now` is the client clock (notices are stamped with it). */
  | { type: 'server'; event: ServerMessage; now: number }
  | { type: 'status'; status: ConnectionStatus }
  | { type: 'lag'; ms: number }
  | { type: 'nick_rejected'; nick: string; code: ErrorCode; message: string; now: number }
  /** The user answered the nick prompt. */
  | { type: 'nick_chosen'; nick: string }
  /** A local notice (hints, help, command errors) in the current conversation. */
  | { type: 'notice'; text: string; tone: 'info' | 'error'; now: number }
  | { type: 'select'; id: string }
  | { type: 'select_index'; index: number }
  | { type: 'select_relative'; delta: 1 | -1 }
  | { type: 'open_dm'; nick: string }
  /**
   * The user asked to join: the room becomes current at once, shown as pending until the
   * server's `joined` (lines typed meanwhile wait in the connection).
   */
  | { type: 'join_requested'; roomId: string }
  /** The server refused to let us into a room (on /join, or on a rejoin after a reconnect). */
  | { type: 'join_failed'; roomId: string; code: ErrorCode; message: string; now: number }
  /** Close a conversation locally (after /leave, or closing a DM). */
  | { type: 'close'; id: string }
  | { type: 'scroll_to'; id: string; anchor: ScrollAnchor | null }
  | { type: 'history_requested'; id: string }
  | {
      type: 'message_pending';
      roomId: string;
      clientMsgId: string;
      text: string;
      now: number;
      action?: true;
    }
  | { type: 'input_insert'; text: string }
  | { type: 'input_backspace' }
  | { type: 'input_delete_word' }
  | { type: 'input_clear' }
  /** Readline editing: Delete/Ctrl+D, Ctrl+K, Ctrl+U, Ctrl+Y. */
  | { type: 'input_edit'; op: 'delete_forward' | 'kill_end' | 'kill_start' | 'yank' }
  /** Up/Down: a line up or down inside a multi-line draft, else through the input history. */
  | { type: 'input_line'; direction: -1 | 1 }
  | { type: 'input_move'; to: 'left' | 'right' | 'home' | 'end' | 'word_left' | 'word_right' }
  | { type: 'history_prev' }
  | { type: 'history_next' }
  /** Enter: clears the line and records it in the history (`record: false` for secrets). */
  | { type: 'input_submit'; record: boolean }
  | { type: 'complete' }
  | ViewAction;
