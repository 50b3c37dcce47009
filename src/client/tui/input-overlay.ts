import type { ChatState } from '../state/types.js';
import type { Store } from '../state/state-store.js';
import type { CursorPosition } from './frame-writer.js';
import { inputCursor } from './InputLine.js';
import { inputRows, type InputRow } from './layout/screen.js';
import { cellWidth } from './layout/wrap.js';
import { inputMask, promptFor } from './prompt.js';

const PROMPT_STYLE = '\x1b[1m\x1b[36m';
const PROMPT_RESET = '\x1b[39m\x1b[22m';

/** The prompt and the rows of the input line for a terminal `columns` wide. */
export function inputLayout(state: ChatState, columns: number): { prompt: string; rows: InputRow[] } {
  const prompt = promptFor(state, columns);
  return {
    prompt,
    rows: inputRows(state.input.text, state.input.cursor, columns - cellWidth(prompt), inputMask(state)),
  };
}

/**
 * True when `b` differs from `a` in the input line alone. The App skips such states (see
 * useViewState): the input line is drawn outside Ink, so a keystroke costs one row instead of
 * Ink laying out and re-serialising the whole screen (about 20 ms at 200x60 on a busy machine).
 */
export function onlyInputChanged(a: ChatState, b: ChatState): boolean {
  for (const key of Object.keys(b) as (keyof ChatState)[])
    if (key !== 'input' && a[key] !== b[key]) return false;
  return true;
}

/** Where the overlay draws: the FrameWriter's input rows. */
export interface InputSink {
  setInput(rows: readonly string[], cursor: CursorPosition | null): void;
}

/**
 * Draws the input line (the bottom rows) straight from the store, beside Ink: each state change
 * re-draws these rows, and the FrameWriter writes them only when they changed. Returns the
 * function that stops it.
 */
export function startInputOverlay(
  store: Store,
  sink: InputSink,
  size: () => { columns: number; rows: number },
): { stop(): void; paint(): void } {
  const paint = () => {
    const { columns, rows: height } = size();
    const { prompt, rows } = inputLayout(store.getState(), columns);
    const pad = ' '.repeat(cellWidth(prompt));
    const lines = rows.map((row, i) =>
      `${PROMPT_STYLE}${i === 0 ? prompt : pad}${PROMPT_RESET}${row.before}${row.at === null || row.at === ' ' ? '' : row.at}${row.after}`.trimEnd(),
    );
    sink.setInput(lines, inputCursor(prompt, rows, height - rows.length));
  };
  const unsubscribe = store.subscribe(paint);
  paint();
  return { stop: unsubscribe, paint };
}
