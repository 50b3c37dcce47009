/** How long a peer that was asked to close may take to close its side before it is cut. */
export const CLOSE_GRACE_MS = 2000;

/**
 * Cuts a connection (`force`) if it has not closed within {@link CLOSE_GRACE_MS} of being asked
 * to: a peer that never answers a close frame or a FIN must not linger. One that closes in time
 * clears the timer, so closed connections leave nothing behind.
 */
export function forceCloseAfterGrace(
  conn: { once(event: 'close', listener: () => void): unknown },
  force: () => void,
): void {
  const timer = setTimeout(force, CLOSE_GRACE_MS).unref();
  conn.once('close', () => clearTimeout(timer));
}
