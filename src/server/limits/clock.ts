/** A monotonic millisecond clock; injected so limit tests are exact. */
export type Clock = () => number;

/** The real clock: monotonic, not wall time, so NTP steps cannot refill or drain a bucket. */
export const realClock: Clock = () => performance.now();
