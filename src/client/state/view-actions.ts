import { select, updateConversation } from './conversations.js';
import { addIgnore, removeIgnore } from './ignore.js';
import { rememberReply } from './replies.js';
import type { ChatState } from './types.js';

/**
 * Actions about what is shown rather than what happened on the server: numbered jumps, the read
 * marker, the smart filter, /clear, /ignore and where replies go.
 */
export type ViewAction =
  /** Alt+J: the next two digits name the conversation to jump to. */
  | { type: 'jump_start' }
  /** A digit typed after Alt+J; the second one jumps. */
  | { type: 'jump_digit'; digit: string }
  | { type: 'jump_cancel' }
  /** Alt+U, /markread: the `-- unread --` line goes away. */
  | { type: 'mark_read'; id: string }
  /** /clear: the pane forgets what it shows (nothing is asked of the server). */
  | { type: 'clear_pane'; id: string }
  /** Show or hide the joins and leaves the smart filter hides. */
  | { type: 'toggle_quiet' }
  /** Alt+L: the bare view on or off. */
  | { type: 'toggle_bare' }
  /** Alt+N, /nicklist: the nick list on or off. */
  | { type: 'toggle_nicklist' }
  | { type: 'ignore'; nick: string }
  | { type: 'unignore'; nick: string }
  /** A request went out: its reply belongs in `target` (where it was typed). */
  | { type: 'request_sent'; ref: string; target: string | null }
  /** Alt+A: the next conversation with activity, or back to the previous one when there is none. */
  | { type: 'select_activity' };

const VIEW_TYPES = new Set<string>([
  'jump_start',
  'jump_digit',
  'jump_cancel',
  'mark_read',
  'clear_pane',
  'toggle_quiet',
  'toggle_bare',
  'toggle_nicklist',
  'ignore',
  'unignore',
  'request_sent',
  'select_activity',
]);

/** True when `action` is one {@link reduceViewAction} handles. */
export function isViewAction(action: { type: string }): action is ViewAction {
  return VIEW_TYPES.has(action.type);
}

/** Applies a {@link ViewAction}. Pure, like the rest of the reducer. */
export function reduceViewAction(state: ChatState, action: ViewAction): ChatState {
  switch (action.type) {
    case 'jump_start':
      return { ...state, jump: '' };
    case 'jump_cancel':
      return state.jump === null ? state : { ...state, jump: null };
    case 'jump_digit': {
      if (state.jump === null || !/^[0-9]$/.test(action.digit)) return { ...state, jump: null };
      const digits = state.jump + action.digit;
      if (digits.length < 2) return { ...state, jump: digits };
      const id = state.order[Number(digits) - 1];
      const next = { ...state, jump: null };
      return id === undefined || id === state.current ? next : select(next, id);
    }
    case 'mark_read':
      return updateConversation(state, action.id, (c) =>
        c.unreadFrom === null ? c : { ...c, unreadFrom: null },
      );
    case 'clear_pane':
      return updateConversation(state, action.id, (c) => ({
        ...c,
        entries: [],
        epochStart: 0,
        unreadFrom: null,
        scroll: null,
        newBelow: 0,
      }));
    case 'toggle_quiet':
      return { ...state, showQuiet: !state.showQuiet };
    case 'toggle_bare':
      return { ...state, bare: !state.bare };
    case 'toggle_nicklist':
      return { ...state, nicklist: !state.nicklist };
    case 'ignore': {
      const ignores = addIgnore(state.ignores, action.nick);
      return ignores === state.ignores ? state : { ...state, ignores };
    }
    case 'unignore': {
      const ignores = removeIgnore(state.ignores, action.nick);
      return ignores === state.ignores ? state : { ...state, ignores };
    }
    case 'request_sent':
      return rememberReply(state, action.ref, action.target);
    case 'select_activity':
      return selectActivity(state);
  }
}

/** Mentions and DMs first, then any unread; with nothing unread, back to where you were before. */
function selectActivity(state: ChatState): ChatState {
  const n = state.order.length;
  const at = state.current === null ? -1 : state.order.indexOf(state.current);
  const after = (pick: (id: string) => boolean): string | undefined => {
    for (let i = 1; i <= n; i++) {
      const id = state.order[(at + i + n) % n]!;
      if (id !== state.current && pick(id)) return id;
    }
    return undefined;
  };
  const id =
    after((id) => (state.conversations[id]?.mentions ?? 0) > 0) ??
    after((id) => (state.conversations[id]?.unread ?? 0) > 0) ??
    (state.previous !== null && state.conversations[state.previous] ? state.previous : undefined);
  return id === undefined || id === state.current ? state : select(state, id);
}
