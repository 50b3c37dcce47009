import { useSyncExternalStore } from 'react';
import type { ChatState } from '../../state/types.js';
import type { Store } from '../../state/state-store.js';

/** The store's state, re-rendering when it changes. */
export function useStoreState(store: Store): ChatState {
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}
