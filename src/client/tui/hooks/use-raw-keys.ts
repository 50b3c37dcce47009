import { useStdin } from 'ink';
import { useEffect, useMemo, useRef } from 'react';
import type { Intent } from '../keys.js';
import { createRawKeys } from '../raw-keys.js';

/**
 * Hands the raw sequences Ink's key parser gets wrong (Delete, bracketed paste) to `onIntents`
 * and returns `taken()`, true while the sequence being delivered was one of them: the App's
 * useInput handler, which Ink calls for the same sequence right after, then skips it. Must be
 * called before useInput so its listener runs first.
 */
export function useRawKeys(onIntents: (intents: Intent[]) => void): () => boolean {
  const { internal_eventEmitter: events } = useStdin();
  const raw = useMemo(() => createRawKeys(), []);
  const taken = useRef(false);
  const handler = useRef(onIntents);
  handler.current = onIntents;
  useEffect(() => {
    const onInput = (sequence: string) => {
      const intents = raw.push(sequence);
      taken.current = intents !== null;
      if (intents && intents.length > 0) handler.current(intents);
    };
    events.on('input', onInput);
    return () => {
      events.off('input', onInput);
    };
  }, [events, raw]);
  return () => {
    const was = taken.current;
    taken.current = false;
    return was;
  };
}
