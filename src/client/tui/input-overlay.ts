import type { ChatState } from '../state/types.js';
import type { Store } from '../state/state-store.js';
import type { CursorPosition, PaneRegion } from './frame-writer.js';
import { inputCursor } from './InputLine.js';
import { inputRows, type InputRow } from './layout/screen.js';
import { cellWidth } from './layout/wrap.js';
import { paneRegion, stateLayout } from './pane-overlay.js';
import { inputMask, promptFor } from './prompt.js';
import type { ViewGate } from './view-gate.js';

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

/** Where the overlay draws: the FrameWriter's input rows and pane. */
export interface InputSink {
  setInput(
    rows: readonly string[],
    cursor: CursorPosition | null,
    pane?: PaneRegion | null,
    defer?: boolean,
  ): void;
}

/**
 * Draws the input line (the bottom rows) and the message pane straight from the store, beside
 * Ink: each state change re-draws them, and the FrameWriter writes the rows that changed. With
 * a `gate` (the App's), a state Ink is about to draw a frame for too (a room switch: the sidebar
 * and status bar change) is held for that frame, so the prompt, the pane and the rest of the
 * screen change in one write. Returns the function that stops it, and `paint` (after a resize:
 * held for Ink's frame).
 */
export function startInputOverlay(
  store: Store,
  sink: InputSink,
  size: () => { columns: number; rows: number },
  gate?: ViewGate,
): { stop(): void; paint(defer?: boolean): void } {
  let lastView = gate?.view(store.getState());
  const paint = (defer = false) => {
    const state = store.getState();
    const view = gate?.view(state);
    const inkWillDraw = view !== lastView;
    lastView = view;
    const { columns, rows: height } = size();
    const { prompt, rows } = inputLayout(state, columns);
    const pad = ' '.repeat(cellWidth(prompt));
    const lines = rows.map((row, i) =>
      `${PROMPT_STYLE}${i === 0 ? prompt : pad}${PROMPT_RESET}${row.before}${row.at === null || row.at === ' ' ? '' : row.at}${row.after}`.trimEnd(),
    );
    const pane = gate ? paneRegion(state, stateLayout(state, columns, height, rows.length)) : null;
    sink.setInput(lines, inputCursor(prompt, rows, height - rows.length), pane, defer || inkWillDraw);
  };
  const unsubscribe = store.subscribe(() => paint());
  paint();
  return { stop: unsubscribe, paint };
}
