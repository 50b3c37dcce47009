/** Which sidebar rows are drawn, and what the rows hidden above and below hold. */
export interface SidebarWindow {
  start: number;
  end: number;
  /** Rows hidden above (null: none, so no indicator row) and how many of them have activity. */
  above: { hidden: number; active: number; urgent: boolean } | null;
  below: { hidden: number; active: number; urgent: boolean } | null;
}

/** What a row holds, for counting what is off screen. */
export interface RowActivity {
  active: boolean;
  urgent: boolean;
}

/**
 * The rows that fit in `height`, keeping row `at` (the current conversation) in view. When not
 * everything fits, a row at the top and/or bottom says how many are hidden there and how many
 * of those have activity, so a mention in room 12 of 15 is never invisible.
 */
export function sidebarWindow(rows: readonly RowActivity[], at: number, height: number): SidebarWindow {
  const count = rows.length;
  if (count <= height || height < 3)
    return { start: 0, end: Math.min(count, Math.max(0, height)), above: null, below: null };
  let inner = height;
  let start = 0;
  for (let pass = 0; pass < 3; pass++) {
    start = Math.max(0, Math.min(at - Math.floor(inner / 2), count - inner));
    const next = height - (start > 0 ? 1 : 0) - (start + inner < count ? 1 : 0);
    if (next === inner) break;
    inner = next;
  }
  start = Math.max(0, Math.min(at - Math.floor(inner / 2), count - inner));
  const end = start + inner;
  const summary = (from: number, to: number) => {
    let active = 0;
    let urgent = false;
    for (let i = from; i < to; i++) {
      if (rows[i]!.active) active++;
      if (rows[i]!.urgent) urgent = true;
    }
    return { hidden: to - from, active, urgent };
  };
  return {
    start,
    end,
    above: start > 0 ? summary(0, start) : null,
    below: end < count ? summary(end, count) : null,
  };
}
