import { useRef, useSyncExternalStore } from 'react';
import type { ChatState } from '../../state/types.js';
import type { Store } from '../../state/state-store.js';
import { onlyInputChanged } from '../input-overlay.js';

/**
 * The store's state for the App. With `inputRowCount` (the input line is drawn outside Ink), a
 * change to the input line alone keeps the state the App last drew, so React does not re-render
 * and Ink does not redraw the screen for a keystroke; unless the input line grew or shrank by a
 * row, which moves everything above it.
 */
export function useViewState(store: Store, inputRowCount?: (state: ChatState) => number): ChatState {
  const last = useRef<{ state: ChatState; rows: number } | null>(null);
  const snapshot = (): ChatState => {
    const state = store.getState();
    if (!inputRowCount) return state;
    const prev = last.current;
    if (prev && (prev.state === state || onlyInputChanged(prev.state, state))) {
      if (prev.state === state || inputRowCount(state) === prev.rows) return prev.state;
    }
    last.current = { state, rows: inputRowCount(state) };
    return state;
  };
  return useSyncExternalStore(store.subscribe, snapshot, snapshot);
}
