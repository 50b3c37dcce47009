import { useSyncExternalStore } from 'react';
import type { ChatState } from '../../state/types.js';
import type { Store } from '../../state/state-store.js';
import type { ViewGate } from '../view-gate.js';

/**
 * The store's state for the App. With a `gate` (the input line and the message pane are drawn
 * outside Ink), a change to what those draw alone keeps the state the App last drew, so React
 * does not re-render and Ink does not redraw the screen for a keystroke, a PgUp or a message
 * arriving in the room on screen; unless the input line grew or shrank by a row, which moves
 * everything above it.
 */
export function useViewState(store: Store, gate?: ViewGate): ChatState {
  const snapshot = (): ChatState => (gate ? gate.view(store.getState()) : store.getState());
  return useSyncExternalStore(store.subscribe, snapshot, snapshot);
}
