import { protocolError, type ProtocolError } from '../../protocol/errors.js';

/**
 * Redis could not answer: not connected, the link dropped while the command was in flight, or
 * the command timed out. Nothing was buffered for later. `maybeApplied` is true when the command
 * had been sent: it may or may not have run (a commit: retry with the same client_msg_id).
 */
export class ClusterUnavailableError extends Error {
  readonly code = 'unavailable' as const;
  constructor(
    message: string,
    /** True when the command may have run on Redis although no reply came back. */
    readonly maybeApplied: boolean,
    /** A hint for clients: when to try again. */
    readonly retryAfterMs = 1000,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClusterUnavailableError';
  }
}

/**
 * Redis holds another cluster epoch than the node: it lost its data (restarted empty, or was
 * flushed). Nothing was written. The node must adopt the new epoch (RedisEngine does, and emits
 * `epoch`) and tell its clients their history was replaced.
 */
export class EpochChangedError extends Error {
  constructor(
    readonly expected: string,
    /** The epoch Redis holds now; empty when it holds none. */
    readonly found: string,
  ) {
    super(`the cluster epoch changed (Redis lost its data): expected ${expected}, found ${found || 'none'}`);
    this.name = 'EpochChangedError';
  }
}

/** The room does not exist in Redis (never created, or lost with a new epoch). */
export class NoSuchRoomError extends Error {
  constructor(readonly roomId: string) {
    super(`no room ${roomId} in the cluster`);
    this.name = 'NoSuchRoomError';
  }
}

/**
 * What a client is told when a request failed on the cluster's account: `unavailable` (with
 * `retry_after_ms`) while Redis cannot answer or has just lost its data, `no_such_room` for a room
 * Redis no longer has. Undefined for any other failure (the caller's internal_error).
 */
export function clusterProtocolError(err: unknown): ProtocolError | undefined {
  if (err instanceof ClusterUnavailableError)
    return protocolError(
      'unavailable',
      err.maybeApplied
        ? 'Redis did not answer in time: it may have been done; retry (a message with the same client_msg_id is stored once)'
        : 'Redis cannot be reached: nothing was done; retry later',
      { retry_after_ms: err.retryAfterMs },
    );
  if (err instanceof EpochChangedError)
    return protocolError('unavailable', 'Redis lost its data; the cluster is starting over, retry', {
      retry_after_ms: 1000,
    });
  if (err instanceof NoSuchRoomError)
    return protocolError('no_such_room', `there is no room ${err.roomId} (any more)`);
  return undefined;
}
