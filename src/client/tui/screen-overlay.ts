import type { Store } from '../state/state-store.js';
import type { ChatState } from '../state/types.js';
import type { CursorPosition, PaneRegion } from './frame-writer.js';
import { inputScreenRows } from './input-overlay.js';
import { chromeRows, paneRegion, stateLayout } from './pane-overlay.js';
import type { ViewGate } from './view-gate.js';

/** Where the screen is drawn: the FrameWriter. */
export interface ScreenSink {
  setScreen(
    main: readonly string[],
    pane: PaneRegion | null,
    input: readonly string[],
    cursor: CursorPosition | null,
  ): void;
}

/**
 * Draws the whole screen straight from the store, beside Ink (which then draws nothing): on
 * each state change the input line, the message pane and the rest (sidebar, topic, nick list,
 * status bar) are rebuilt from the state and handed to the FrameWriter in one call, which
 * writes only the rows (or, for the pane, the cells) that changed. Ink's whole-screen render,
 * 20-50 ms at 200x60 on a busy machine, is out of every keystroke's path; the prompt, the pane
 * and the sidebar change in the same write. The rows other than the input line and the pane
 * are rebuilt only when the `gate` says the App would have re-rendered. Returns `stop` and
 * `paint` (after a resize).
 */
export function startScreenOverlay(
  store: Store,
  sink: ScreenSink,
  size: () => { columns: number; rows: number },
  gate: ViewGate,
  clock: () => number = Date.now,
): { stop(): void; paint(): void } {
  let chrome: { view: ChatState; key: string; rows: string[] } | null = null;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const paint = () => {
    const state = store.getState();
    const { columns, rows: height } = size();
    const input = inputScreenRows(state, columns, height);
    const layout = stateLayout(state, columns, height, input.lines.length);
    // The status bar counts down to the next reconnect attempt: repaint every second meanwhile.
    const reconnecting = state.status.state === 'reconnecting';
    if (reconnecting && ticker === undefined) ticker = setInterval(paint, 1_000);
    if (!reconnecting && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
    const now = reconnecting ? clock() : 0;
    const view = gate.view(state);
    const key = `${columns}x${height}:${input.lines.length}:${Math.floor(now / 1000)}`;
    if (!chrome || chrome.view !== view || chrome.key !== key)
      chrome = { view, key, rows: chromeRows(view, layout, now) };
    sink.setScreen(chrome.rows, paneRegion(state, layout), input.lines, input.cursor);
  };
  const unsubscribe = store.subscribe(paint);
  paint();
  return {
    stop() {
      unsubscribe();
      if (ticker !== undefined) clearInterval(ticker);
    },
    paint,
  };
}
