/** Reconnect timing. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry. */
  baseMs: number;
  /** Largest delay ever waited. */
  maxMs: number;
}

/** What the client uses: retry within about half a second, never wait more than ten. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential, capped, with
 * "equal jitter": half the ceiling fixed, half random. The random half spreads out clients that
 * all lost the same server at once; the fixed half keeps any of them from hammering it.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
