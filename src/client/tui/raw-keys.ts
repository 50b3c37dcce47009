import type { Intent } from './keys.js';

/** Pastes longer than this many lines are not sent at once: they wait in the input line. */
export const PASTE_ASK_LINES = 3;

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';
/** The Delete key (with or without modifiers): Ink reports it exactly like Backspace. */
const DELETE_KEY = /^\x1b\[3(;\d+)?~$/;

/**
 * Reads the raw key sequences Ink cannot tell apart or does not know: the Delete key (ESC [3~,
 * which Ink names `delete` like the DEL byte Backspace sends) and bracketed paste (everything
 * between ESC [200~ and ESC [201~ is one paste, never keys). `push` returns the intents for a
 * sequence it handled, or null for Ink's key parsing to handle it.
 */
export function createRawKeys(): { push(sequence: string): Intent[] | null } {
  let paste: string | null = null;
  return {
    push(sequence) {
      if (paste !== null) {
        const end = sequence.indexOf(PASTE_END);
        if (end === -1) {
          paste += sequence;
          return [];
        }
        const text = paste + sequence.slice(0, end);
        paste = null;
        return [{ kind: 'paste', text }];
      }
      if (sequence.startsWith(PASTE_START)) {
        paste = '';
        const rest = sequence.slice(PASTE_START.length);
        return rest === '' ? [] : this.push(rest);
      }
      if (DELETE_KEY.test(sequence)) return [{ kind: 'edit', op: 'delete_forward' }];
      return null;
    },
  };
}
