import type { ChatState } from '../state/types.js';
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
 * The input line as the terminal gets it (the bottom rows, drawn beside Ink by
 * screen-overlay.ts), and where the terminal's cursor goes: under the rows of a terminal
 * `height` rows tall.
 */
export function inputScreenRows(
  state: ChatState,
  columns: number,
  height: number,
): { lines: string[]; cursor: CursorPosition | null } {
  const { prompt, rows } = inputLayout(state, columns);
  const pad = ' '.repeat(cellWidth(prompt));
  const lines = rows.map((row, i) =>
    `${PROMPT_STYLE}${i === 0 ? prompt : pad}${PROMPT_RESET}${row.before}${row.at === null || row.at === ' ' ? '' : row.at}${row.after}`.trimEnd(),
  );
  return { lines, cursor: inputCursor(prompt, rows, height - rows.length) };
}
