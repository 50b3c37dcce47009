/**
 * Resolves once `check` holds, looking again after each turn of the event loop (for state the
 * server reaches on its own, such as sessions released after a close); rejects after
 * `timeoutMs`.
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A clock the test moves by hand: the server's buckets refill only when told. */
export function manualClock(start = 1_000_000): { clock: () => number; advance: (ms: number) => number } {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}
