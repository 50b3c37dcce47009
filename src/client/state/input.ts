import type { InputState } from './types.js';

/** History entries kept for Up/Down. */
export const INPUT_HISTORY_LIMIT = 500;

/** An empty input line. */
export function emptyInput(): InputState {
  return { text: '', cursor: 0, history: [], historyIndex: null, draft: '', completion: null, kill: '' };
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The grapheme boundary before `index`, so Backspace and Left never split an emoji. */
export function prevBoundary(text: string, index: number): number {
  if (index <= 0) return 0;
  let last = 0;
  for (const { index: start } of graphemes.segment(text)) {
    if (start >= index) break;
    last = start;
  }
  return last;
}

/** The grapheme boundary after `index`. */
export function nextBoundary(text: string, index: number): number {
  if (index >= text.length) return text.length;
  for (const { index: start, segment } of graphemes.segment(text)) {
    if (start + segment.length > index) return start + segment.length;
  }
  return text.length;
}

function wordLeft(text: string, index: number): number {
  let i = index;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return i;
}

function wordRight(text: string, index: number): number {
  let i = index;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  while (i < text.length && !/\s/.test(text[i]!)) i++;
  return i;
}

/** Replaces the line, leaving history browsing and completion (edits end both). */
function edit(input: InputState, text: string, cursor: number): InputState {
  return { ...input, text, cursor, historyIndex: null, completion: null };
}

/** Inserts text (a key or a paste) at the cursor. */
export function insertText(input: InputState, text: string): InputState {
  const next = input.text.slice(0, input.cursor) + text + input.text.slice(input.cursor);
  return edit(input, next, input.cursor + text.length);
}

/** Deletes the grapheme before the cursor. */
export function backspace(input: InputState): InputState {
  if (input.cursor === 0) return input.completion ? { ...input, completion: null } : input;
  const start = prevBoundary(input.text, input.cursor);
  return edit(input, input.text.slice(0, start) + input.text.slice(input.cursor), start);
}

/** Delete / Ctrl+D: deletes the grapheme under the cursor. */
export function deleteForward(input: InputState): InputState {
  if (input.cursor >= input.text.length) return input;
  const end = nextBoundary(input.text, input.cursor);
  return edit(input, input.text.slice(0, input.cursor) + input.text.slice(end), input.cursor);
}

/** Cuts `[start, end)` out of the line into the kill buffer (an empty cut keeps the buffer). */
function kill(input: InputState, start: number, end: number): InputState {
  if (start === end) return input;
  const next = edit(input, input.text.slice(0, start) + input.text.slice(end), start);
  return { ...next, kill: input.text.slice(start, end) };
}

/** Ctrl+W: kills the word before the cursor. */
export function deleteWord(input: InputState): InputState {
  return kill(input, wordLeft(input.text, input.cursor), input.cursor);
}

/** Ctrl+K: kills from the cursor to the end of the line. */
export function killToEnd(input: InputState): InputState {
  return kill(input, input.cursor, input.text.length);
}

/** Ctrl+U: kills from the start of the line to the cursor. */
export function killToStart(input: InputState): InputState {
  return kill(input, 0, input.cursor);
}

/** Ctrl+Y: puts the last killed text back at the cursor. */
export function yank(input: InputState): InputState {
  return input.kill === '' ? input : insertText(input, input.kill);
}

/**
 * Up/Down inside a multi-line draft (Alt+Enter): moves to the same column of the line above or
 * below; null when the cursor is already on the first/last line (then history takes over).
 */
export function moveLine(input: InputState, direction: -1 | 1): InputState | null {
  const { text, cursor } = input;
  const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
  const column = cursor - lineStart;
  if (direction === -1) {
    if (lineStart === 0) return null;
    const prevStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    return { ...input, cursor: Math.min(prevStart + column, lineStart - 1), completion: null };
  }
  const lineEnd = text.indexOf('\n', cursor);
  if (lineEnd === -1) return null;
  const nextEnd = text.indexOf('\n', lineEnd + 1);
  const limit = nextEnd === -1 ? text.length : nextEnd;
  return { ...input, cursor: Math.min(lineEnd + 1 + column, limit), completion: null };
}

/** Moves the cursor. */
export function moveCursor(
  input: InputState,
  to: 'left' | 'right' | 'home' | 'end' | 'word_left' | 'word_right',
): InputState {
  const { text, cursor } = input;
  const next =
    to === 'left'
      ? prevBoundary(text, cursor)
      : to === 'right'
        ? nextBoundary(text, cursor)
        : to === 'home'
          ? 0
          : to === 'end'
            ? text.length
            : to === 'word_left'
              ? wordLeft(text, cursor)
              : wordRight(text, cursor);
  return next === cursor && !input.completion ? input : { ...input, cursor: next, completion: null };
}

/** Up: the previous line from history; the line being typed is kept as the draft. */
export function historyPrev(input: InputState): InputState {
  if (input.history.length === 0) return input;
  const index = input.historyIndex === null ? input.history.length - 1 : Math.max(0, input.historyIndex - 1);
  const text = input.history[index]!;
  const draft = input.historyIndex === null ? input.text : input.draft;
  return { ...input, text, cursor: text.length, historyIndex: index, draft, completion: null };
}

/** Down: the next line from history, then back to the draft. */
export function historyNext(input: InputState): InputState {
  if (input.historyIndex === null) return input;
  const index = input.historyIndex + 1;
  if (index >= input.history.length) {
    return {
      ...input,
      text: input.draft,
      cursor: input.draft.length,
      historyIndex: null,
      draft: '',
      completion: null,
    };
  }
  const text = input.history[index]!;
  return { ...input, text, cursor: text.length, historyIndex: index, completion: null };
}

/** The readline edits, by name (one reducer case for all of them). */
export function readlineEdit(
  input: InputState,
  op: 'delete_forward' | 'kill_end' | 'kill_start' | 'yank',
): InputState {
  switch (op) {
    case 'delete_forward':
      return deleteForward(input);
    case 'kill_end':
      return killToEnd(input);
    case 'kill_start':
      return killToStart(input);
    case 'yank':
      return yank(input);
  }
}

/** Up/Down: within a multi-line draft first, then through the history. */
export function upOrHistory(input: InputState, direction: -1 | 1): InputState {
  // While browsing history the lines are recalled whole: Up/Down keep browsing.
  if (input.historyIndex === null) {
    const moved = moveLine(input, direction);
    if (moved) return moved;
  }
  return direction === -1 ? historyPrev(input) : historyNext(input);
}

/** Enter: clears the line; records it unless it is blank, a repeat, or a secret. */
export function submit(input: InputState, record: boolean): InputState {
  const line = input.text;
  const keep = record && line.trim() !== '' && input.history[input.history.length - 1] !== line;
  const history = keep ? [...input.history, line].slice(-INPUT_HISTORY_LIMIT) : input.history;
  return { text: '', cursor: 0, history, historyIndex: null, draft: '', completion: null, kill: input.kill };
}
