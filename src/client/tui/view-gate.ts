import type { ChatState, Conversation } from '../state/types.js';

/**
 * State fields drawn only by the overlays (the input line and the message pane, drawn beside
 * Ink) or by nothing at all: a change to them alone needs no Ink frame.
 */
const OVERLAY_ONLY = new Set<keyof ChatState>([
  'input',
  'system',
  'showQuiet',
  'nextKey',
  'replyTo',
  'knownRooms',
  'roomsCursor',
]);

/** Conversation fields only the message pane draws (the sidebar, status bar and nick list do not). */
const PANE_ONLY = new Set<keyof Conversation>([
  'entries',
  'pending',
  'scroll',
  'newBelow',
  'unreadFrom',
  'loadingOlder',
  'hasMore',
  'newestSeq',
  'oldestSeq',
  'epochStart',
]);

function onlyPaneChanged(a: Conversation | undefined, b: Conversation | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  for (const key of Object.keys(b) as (keyof Conversation)[])
    if (!PANE_ONLY.has(key) && a[key] !== b[key]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

/**
 * True when `b` differs from `a` only in what the overlays draw: the input line, and the pane
 * of the conversation on screen (a message arriving there, PgUp, End). Such a state needs no
 * Ink frame: the App skips it (see useViewState).
 */
export function onlyOverlayChanged(a: ChatState, b: ChatState): boolean {
  for (const key of Object.keys(b) as (keyof ChatState)[]) {
    if (a[key] === b[key] || OVERLAY_ONLY.has(key)) continue;
    if (key !== 'conversations' || a.current !== b.current) return false;
    const ac = a.conversations;
    const bc = b.conversations;
    for (const id of Object.keys(bc)) {
      if (ac[id] === bc[id]) continue;
      if (id !== b.current || !onlyPaneChanged(ac[id], bc[id])) return false;
    }
    if (Object.keys(ac).length !== Object.keys(bc).length) return false;
  }
  return true;
}

/**
 * Decides which states the App renders when the input line and the pane are drawn beside Ink:
 * the state Ink last drew is kept while only overlay fields change (and the input line keeps its
 * row count). The overlay asks it too, to know whether Ink is about to draw a frame for a state,
 * so both go out in one write.
 */
export interface ViewGate {
  /** The state the App should render for `state` (the one it last rendered, or `state`). */
  view(state: ChatState): ChatState;
}

/** A {@link ViewGate}; `inputRowCount` gives the input line's rows for a state. */
export function createViewGate(inputRowCount: (state: ChatState) => number): ViewGate {
  let seen: ChatState | null = null;
  let shown: { state: ChatState; rows: number } | null = null;
  return {
    view(state) {
      if (state === seen && shown) return shown.state;
      seen = state;
      if (shown && onlyOverlayChanged(shown.state, state) && inputRowCount(state) === shown.rows)
        return shown.state;
      shown = { state, rows: inputRowCount(state) };
      return state;
    },
  };
}
