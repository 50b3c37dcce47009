/** Where the terminal's own cursor goes (0-based, from the top left), or null to hide it. */
export interface CursorPosition {
  row: number;
  col: number;
}

/**
 * Rows drawn beside Ink at a fixed place (the message pane, see pane-overlay.ts): Ink's frame
 * leaves that rectangle blank and the writer puts these rows over it, so a pane that changes
 * alone costs neither a React render nor Ink's whole-screen serialisation.
 */
export interface PaneRegion {
  /** First row and column (0-based). */
  top: number;
  left: number;
  /** Columns the region covers: a row is erased over this width before it is written. */
  width: number;
  /** Styled rows, each at most `width` cells, top to bottom. */
  rows: readonly string[];
}

/** What the writer needs of the terminal. */
export interface FrameSink {
  write(chunk: string): unknown;
}

const SYNC_START = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_LINE = '\x1b[2K';
const CLEAR_SCREEN = '\x1b[2J';
// Autowrap off while rows are written: a row wider than the terminal (a frame laid out before a
// resize reached the App) is clipped at the edge instead of wrapping onto, and scrolling, the
// rows below.
const WRAP_OFF = '\x1b[?7l';
const WRAP_ON = '\x1b[?7h';
/** CUP: moves the cursor to `row`, `col` (0-based). */
export const moveTo = (row: number, col: number): string => `\x1b[${row + 1};${col + 1}H`;
// Erases n cells from the cursor without moving it (ECH), with the colours reset first.
const eraseCells = (n: number) => `\x1b[m\x1b[${n}X`;

/** One screen row: Ink's text, and the pane's part of the row when the pane is drawn apart. */
interface ScreenRow {
  main: string;
  /** `left,width` of the pane's cells on this row, and what they hold; null: none. */
  paneAt: string | null;
  pane: string;
}

/**
 * Puts Ink's frames on a full screen, writing only the rows that changed.
 *
 * Ink's own renderers either redraw the whole frame per keystroke (6 KB at 200x60) or, in its
 * incremental mode, move relative to the last row and scroll when the frame fills the terminal,
 * which is why the bottom row used to stay blank. Here every changed row is addressed absolutely
 * (CUP), so the frame can use every row, a keystroke costs one row, and nothing ever scrolls.
 * Each row is cleared before it is written: erasing after a full-width row would eat its last
 * cell (the cursor sits on it, waiting to wrap). The terminal's real cursor is left where the
 * user types, so an input method composes in the right place.
 */
export class FrameWriter {
  private rows: ScreenRow[] = [];
  /** Ink's last frame. */
  private main: string[] = [];
  /** The input line's rows when they are drawn beside Ink (see input-overlay.ts); null: in Ink's frame. */
  private input: readonly string[] | null = null;
  private pane: PaneRegion | null = null;
  /** The rows above the input line come from setScreen, not from Ink's frames. */
  private ownMain = false;
  private cursor: CursorPosition | null = null;
  private shownCursor: CursorPosition | null | undefined = undefined;
  private full = true;
  /** Bytes written so far (the benchmark reads it). */
  bytes = 0;

  /** `height` is the terminal's row count (needed when the input line is drawn beside Ink). */
  constructor(
    private readonly sink: FrameSink,
    private readonly height?: () => number,
  ) {}

  /** Draws a frame (rows joined by `\n`, as Ink renders them); ignored once setScreen draws the screen. */
  frame(output: string): void {
    if (this.ownMain) return;
    this.main = output.split('\n');
    this.draw();
  }

  /**
   * Draws the input line's rows at the bottom of the screen, under Ink's frame, and puts the
   * cursor where the user types. From the first call on, Ink's frame holds the rows above only.
   * With `pane`, the message pane's rows go over the blank cells the frame leaves for them.
   */
  setInput(
    rows: readonly string[],
    cursor: CursorPosition | null,
    pane: PaneRegion | null = this.pane,
  ): void {
    this.input = rows;
    this.cursor = cursor;
    this.pane = pane;
    this.draw();
  }

  /**
   * Draws the whole screen without Ink (see screen-overlay.ts): `main` the rows above the input
   * line (the pane's cells left blank), `pane` the pane's rows over them, `input` and `cursor`
   * the input line. One call, one write: the prompt, the pane and the sidebar always change
   * together. From then on Ink's frames are ignored.
   */
  setScreen(
    main: readonly string[],
    pane: PaneRegion | null,
    input: readonly string[],
    cursor: CursorPosition | null,
  ): void {
    this.ownMain = true;
    this.main = [...main];
    this.setInput(input, cursor, pane);
  }

  /** The screen: Ink's frame, with the input rows under it and the pane over it when they are drawn apart. */
  private compose(): ScreenRow[] {
    let main = this.main;
    if (this.input !== null) {
      const height = this.height?.() ?? this.main.length + this.input.length;
      const top = Math.max(0, height - this.input.length);
      main = this.main.slice(0, top);
      while (main.length < top) main.push('');
      main.push(...this.input);
    }
    const screen: ScreenRow[] = main.map((line) => ({ main: line, paneAt: null, pane: '' }));
    const pane = this.pane;
    if (pane) {
      const last = this.input === null ? screen.length : screen.length - this.input.length;
      const at = `${pane.left},${pane.width}`;
      pane.rows.forEach((text, i) => {
        const row = screen[pane.top + i];
        if (row && pane.top + i < last) {
          row.paneAt = at;
          row.pane = text;
        }
      });
    }
    return screen;
  }

  private draw(): void {
    const next = this.compose();
    let out = '';
    const height = Math.max(next.length, this.rows.length);
    if (this.full) out += CLEAR_SCREEN;
    for (let i = 0; i < height; i++) {
      const row = next[i] ?? { main: '', paneAt: null, pane: '' };
      const old = this.rows[i];
      const sameMain = old !== undefined && row.main === old.main && row.paneAt === old.paneAt;
      const pane =
        row.paneAt === null ? '' : moveTo(i, this.pane!.left) + eraseCells(this.pane!.width) + row.pane;
      if (this.full) {
        if (row.main !== '') out += moveTo(i, 0) + CLEAR_LINE + row.main;
        if (row.pane !== '') out += pane;
      } else if (!sameMain) {
        out += moveTo(i, 0) + CLEAR_LINE + row.main + (row.pane === '' ? '' : pane);
      } else if (row.pane !== old.pane) {
        // Only the pane's part of the row changed: the sidebar and nick list beside it stay.
        out += pane;
      }
    }
    this.full = false;
    this.rows = next;
    this.write(out, out !== '');
  }

  /** Sets where the real cursor goes after the next frame (it moves at once if nothing is pending). */
  setCursor(position: CursorPosition | null): void {
    this.cursor = position;
  }

  /** The terminal was resized or its screen is unknown: the next frame repaints every row. */
  invalidate(): void {
    this.full = true;
    // Ink's last frame was laid out for the old size: drawn on the new one, rows wider than the
    // terminal would wrap and scroll it. Only the input rows are drawn until Ink's next frame.
    this.main = [];
  }

  private write(body: string, changed: boolean): void {
    const cursor = this.cursor;
    const same =
      cursor === this.shownCursor ||
      (cursor !== null &&
        this.shownCursor != null &&
        cursor.row === this.shownCursor.row &&
        cursor.col === this.shownCursor.col);
    if (!changed && same) return;
    // Writing rows moves the cursor: hide it meanwhile, then put it back where the user types.
    const tail = cursor ? moveTo(cursor.row, cursor.col) + SHOW_CURSOR : HIDE_CURSOR;
    const chunk = changed ? SYNC_START + HIDE_CURSOR + WRAP_OFF + body + WRAP_ON + tail + SYNC_END : tail;
    this.shownCursor = cursor ? { ...cursor } : null;
    this.bytes += Buffer.byteLength(chunk);
    this.sink.write(chunk);
  }
}
