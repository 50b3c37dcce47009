import { useEffect } from 'react';
import type { ChatConnection, ConnectionSignal } from '../../server-link-types.js';
import type { Controller } from '../controller.js';
import type { Store } from '../../state/state-store.js';

/**
 * Feeds the connection's signals to the controller and starts the connection. Signals that
 * arrive in one event-loop turn (a replay, a burst of traffic) are applied as one batch: one
 * re-render, not one per message.
 */
export function useConnection(connection: ChatConnection, controller: Controller, store: Store): void {
  useEffect(() => {
    let queue: ConnectionSignal[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const signals = queue;
      queue = [];
      store.batch(() => {
        for (const s of signals) controller.signal(s);
      });
    };
    const unsubscribe = connection.subscribe((signal) => {
      queue.push(signal);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
    connection.start();
    return () => {
      unsubscribe();
    };
  }, [connection, controller, store]);
}
