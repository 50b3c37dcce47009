import { Redis, type RedisOptions } from 'ioredis';
import { ClusterUnavailableError } from './errors.js';
import type { RedisTarget } from './redis-url.js';

/** Tunables of the node's Redis links; the defaults suit a LAN or one box. */
export interface ConnectOptions {
  /** A command with no reply after this long fails (`unavailable`, may have run). Default 2000. */
  commandTimeoutMs?: number;
  /** Giving up on one connection attempt. Default 2000. */
  connectTimeoutMs?: number;
  /** The longest pause between reconnection attempts. Default 1000. */
  maxReconnectDelayMs?: number;
  /** Connection name shown by CLIENT LIST (the node id helps operators). */
  name?: string;
}

/**
 * ioredis options for the command connection. ioredis's defaults are unsafe for a chat server
 * that acknowledges messages only once stored:
 * - `enableOfflineQueue: false`: a command issued while disconnected fails at once instead of
 *   being queued and sent (and acknowledged) later, perhaps long after the client gave up.
 * - `autoResendUnfulfilledCommands: false`: the default re-sends a command that was in flight
 *   when the link dropped; a commit that had run would then be stored twice (under a new seq
 *   when it has no client_msg_id).
 * - `maxRetriesPerRequest: 0`: in-flight commands are rejected as soon as the link closes.
 * - `commandTimeout`: a stalled Redis (CLIENT PAUSE, a long fsync) gives an error, not a hang.
 * - `retryStrategy` never gives up: the node stays up and reconnects by itself.
 */
export function commandOptions(target: RedisTarget, options: ConnectOptions = {}): RedisOptions {
  const maxDelay = options.maxReconnectDelayMs ?? 1000;
  return {
    ...target.options,
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    ...(options.name ? { connectionName: options.name } : {}),
  };
}

/**
 * ioredis options for the subscriber connection. It queues nothing either; whatever was
 * published while it was down is lost on the wire, which is why room feeds fill gaps from the
 * streams. No command timeout: a subscriber waits for messages, not replies.
 *
 * `autoResubscribe` is off: the engine subscribes again itself on every `ready` (and catches a
 * failure). ioredis's own resubscription is a promise nobody catches, so a link that dropped
 * again right after `ready` rejected it unhandled ("Stream isn't writeable"), which ends a Node
 * process (seen in the fault tests).
 */
export function subscriberOptions(target: RedisTarget, options: ConnectOptions = {}): RedisOptions {
  const { commandTimeout: _none, ...rest } = commandOptions(target, options);
  return {
    ...rest,
    autoResubscribe: false,
    ...(options.name ? { connectionName: `${options.name}:sub` } : {}),
  };
}

/**
 * Opens a connection and resolves once it is ready; rejects with ClusterUnavailableError (and
 * leaves nothing running) when the first attempt fails. Later drops reconnect by themselves.
 */
export async function openRedis(target: RedisTarget, redisOptions: RedisOptions): Promise<Redis> {
  const redis = new Redis(redisOptions);
  // Errors are reported through command rejections and the engine's state; without a listener
  // ioredis would print every reconnection failure.
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new ClusterUnavailableError(
      `cannot reach Redis at ${target.display}: ${(err as Error).message}`,
      false,
      1000,
      { cause: err },
    );
  }
  return redis;
}

/**
 * Maps a failure of a command to what the caller must know: connection trouble becomes
 * ClusterUnavailableError (with whether the command may have run); Redis's own replies
 * (ReplyError) pass through unchanged.
 */
export function asUnavailable(err: unknown, what: string): unknown {
  if (!(err instanceof Error) || err.name === 'ReplyError') return err;
  const message = err.message;
  if (/Stream isn't writeable|enableOfflineQueue/.test(message)) {
    return new ClusterUnavailableError(`Redis is unavailable (${what}: not connected)`, false, 1000, {
      cause: err,
    });
  }
  if (/Command timed out/.test(message)) {
    return new ClusterUnavailableError(
      `Redis did not answer in time (${what}); it may have been applied`,
      true,
      1000,
      { cause: err },
    );
  }
  if (err.name === 'MaxRetriesPerRequestError' || /Connection is closed/.test(message)) {
    return new ClusterUnavailableError(
      `the link to Redis dropped (${what}); it may have been applied`,
      true,
      1000,
      { cause: err },
    );
  }
  return err;
}
