import type { Key } from 'ink';
import { sanitizeText } from '../../protocol/sanitize.js';

/** What a keypress asks for, independent of the state it lands in. */
export type Intent =
  | { kind: 'quit' }
  | { kind: 'next_room' }
  | { kind: 'prev_room' }
  | { kind: 'jump'; index: number }
  | { kind: 'activity' }
  /** Alt+J: the next two digits typed name the conversation. */
  | { kind: 'jump_prefix' }
  /** Alt+U: drop the unread marker here. */
  | { kind: 'mark_read' }
  /** Alt+=: show or hide the joins and leaves the smart filter hides. */
  | { kind: 'toggle_quiet' }
  /** Alt+L: the bare view (no sidebar, no indent) on or off. */
  | { kind: 'toggle_bare' }
  /** Alt+N: the nick list on or off. */
  | { kind: 'toggle_nicklist' }
  | { kind: 'page_up' }
  | { kind: 'page_down' }
  | { kind: 'live' }
  | { kind: 'history_prev' }
  | { kind: 'history_next' }
  | { kind: 'submit' }
  | { kind: 'insert'; text: string }
  | { kind: 'complete' }
  | { kind: 'backspace' }
  | { kind: 'delete_word' }
  | { kind: 'clear_line' }
  | { kind: 'edit'; op: 'delete_forward' | 'kill_end' | 'kill_start' | 'yank' }
  /** Up/Down: a line within a multi-line draft, else the input history. */
  | { kind: 'line'; direction: -1 | 1 }
  /** A bracketed paste, whole. */
  | { kind: 'paste'; text: string }
  /** Alt+S: send a multi-line draft (a long paste) as separate lines. */
  | { kind: 'send_lines' }
  | { kind: 'move'; to: 'left' | 'right' | 'home' | 'end' | 'word_left' | 'word_right' };

/**
 * Maps one Ink keypress to intents. Usually one; a chunk of typed or pasted text that carries
 * Enter or other editing keys (a fast typist, tmux send-keys, a paste) becomes text, submit,
 * text, ...
 */
export function keyToIntents(input: string, key: Key): Intent[] {
  // Ctrl+Left/Right arrive with ctrl set and no input: by word, like Alt+B/F.
  if (key.leftArrow) return [{ kind: 'move', to: key.meta || key.ctrl ? 'word_left' : 'left' }];
  if (key.rightArrow) return [{ kind: 'move', to: key.meta || key.ctrl ? 'word_right' : 'right' }];
  if (key.ctrl) {
    switch (input) {
      case 'c':
        return [{ kind: 'quit' }];
      case 'n':
        return [{ kind: 'next_room' }];
      case 'p':
        return [{ kind: 'prev_room' }];
      case 'a':
        return [{ kind: 'move', to: 'home' }];
      case 'e':
        return [{ kind: 'move', to: 'end' }];
      case 'u':
        return [{ kind: 'edit', op: 'kill_start' }];
      case 'k':
        return [{ kind: 'edit', op: 'kill_end' }];
      case 'd':
        return [{ kind: 'edit', op: 'delete_forward' }];
      case 'y':
        return [{ kind: 'edit', op: 'yank' }];
      case 'w':
        return [{ kind: 'delete_word' }];
      default:
        return [];
    }
  }
  // Alt+Enter arrives as ESC CR: a newline inside the message.
  if (key.return) return key.meta ? [{ kind: 'insert', text: '\n' }] : [{ kind: 'submit' }];
  if (key.pageUp) return [{ kind: 'page_up' }];
  if (key.pageDown) return [{ kind: 'page_down' }];
  if (key.end) return [{ kind: 'live' }, { kind: 'move', to: 'end' }];
  if (key.home) return [{ kind: 'move', to: 'home' }];
  if (key.upArrow) return [{ kind: 'line', direction: -1 }];
  if (key.downArrow) return [{ kind: 'line', direction: 1 }];
  if (key.tab) return key.shift ? [] : [{ kind: 'complete' }];
  // Terminals send DEL (0x7f) for Backspace, which Ink reports as `delete`, as it does the
  // Delete key (ESC [3~): that one is told apart from the raw bytes first (see raw-keys.ts).
  if (key.backspace || key.delete) return key.meta ? [{ kind: 'delete_word' }] : [{ kind: 'backspace' }];
  if (key.escape) return [];
  if (key.meta) {
    if (/^[1-9]$/.test(input)) return [{ kind: 'jump', index: Number(input) - 1 }];
    if (input === 'a' || input === 'A') return [{ kind: 'activity' }];
    if (input === 'j' || input === 'J') return [{ kind: 'jump_prefix' }];
    if (input === 'u' || input === 'U') return [{ kind: 'mark_read' }];
    if (input === '=') return [{ kind: 'toggle_quiet' }];
    if (input === 'l' || input === 'L') return [{ kind: 'toggle_bare' }];
    if (input === 'n' || input === 'N') return [{ kind: 'toggle_nicklist' }];
    if (input === 'b') return [{ kind: 'move', to: 'word_left' }];
    if (input === 'f') return [{ kind: 'move', to: 'word_right' }];
    if (input === 's') return [{ kind: 'send_lines' }];
    return [];
  }
  return textIntents(input);
}

/**
 * Editing keys that arrive inside a chunk of text rather than as a keypress of their own: Ink
 * hands over a run of bytes as one `input` when they come together, which they do from a fast
 * typist over a slow link (and from tmux send-keys). Ctrl+C is left out on purpose: junk in a
 * paste must never quit.
 */
const CHUNK_KEYS: Readonly<Record<string, Intent>> = {
  '\r\n': { kind: 'submit' },
  '\r': { kind: 'submit' },
  '\n': { kind: 'submit' },
  '\x7f': { kind: 'backspace' },
  '\b': { kind: 'backspace' },
  '\x17': { kind: 'delete_word' },
  '\x15': { kind: 'edit', op: 'kill_start' },
  '\x0b': { kind: 'edit', op: 'kill_end' },
  '\x04': { kind: 'edit', op: 'delete_forward' },
  '\x19': { kind: 'edit', op: 'yank' },
  '\x01': { kind: 'move', to: 'home' },
  '\x05': { kind: 'move', to: 'end' },
  '\x0e': { kind: 'next_room' },
  '\x10': { kind: 'prev_room' },
};
const CHUNK_KEY = /(\r\n|[\r\n\x7f\b\x17\x15\x0b\x04\x19\x01\x05\x0e\x10])/;

/** Text from a chunk of keys (or a short paste): text, Enter, editing keys. */
export function textIntents(input: string): Intent[] {
  const intents: Intent[] = [];
  // A Tab that ends the chunk was pressed after the text; one inside it was pasted (a space).
  const complete = input.endsWith('\t');
  const body = complete ? input.slice(0, -1) : input;
  for (const part of body.split(CHUNK_KEY)) {
    const key = CHUNK_KEYS[part];
    if (key) {
      intents.push(key);
      continue;
    }
    // Whatever else a paste carries (escape sequences, control characters) never reaches the line.
    const text = sanitizeText(part);
    if (text !== '') intents.push({ kind: 'insert', text });
  }
  if (complete) intents.push({ kind: 'complete' });
  return intents;
}
