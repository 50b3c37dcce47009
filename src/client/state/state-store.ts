import type { Action } from './actions.js';
import { reducer } from './reducer.js';
import type { ChatState } from './types.js';

/** Holds the state and applies actions through the reducer. */
export interface Store {
  getState(): ChatState;
  dispatch(action: Action): void;
  /** Runs `fn` and notifies subscribers once at the end, however many actions it dispatched. */
  batch(fn: () => void): void;
  subscribe(listener: () => void): () => void;
}

/**
 * A minimal external store. Unlike `useReducer`, `getState()` is current the moment `dispatch`
 * returns, so a burst of keys handled before React re-renders never acts on a stale state.
 */
export function createStore(initial: ChatState): Store {
  let state = initial;
  let depth = 0;
  let dirty = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    dirty = false;
    for (const l of [...listeners]) l();
  };
  return {
    getState: () => state,
    dispatch(action) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      if (depth > 0) dirty = true;
      else notify();
    },
    batch(fn) {
      depth++;
      try {
        fn();
      } finally {
        depth--;
        if (depth === 0 && dirty) notify();
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
