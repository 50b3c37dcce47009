import type { Outbound } from './outbound.js';

/** Which door a connection came through; used for stats, metrics and per-transport rendering. */
export type TransportKind = 'ws' | 'tcp' | 'irc' | 'sse' | 'http' | 'memory';

/** Why the server ends a connection; sent to the client where the transport allows. */
export interface CloseReason {
  /** Stable snake_case reason, e.g. `slow_consumer`, `rate_limited`, `shutdown`, `idle`. */
  code: string;
  message: string;
  /** A `killed` close: the server operator who ended it (told to the rooms as `killed_by`). */
  by?: string;
}

/**
 * What a user's client said of it at connection: IRC's USER (an unverified username, shown with
 * `~`, and a real name). Other doors give none; whois and WHO then show their defaults.
 */
export interface UserProfile {
  username: string;
  realName: string;
  /** IRC's user mode +i: WHO masks do not list the user to those who share no room with it. */
  invisible?: boolean;
}

/**
 * What a transport gives the hub for each client: whole events in, close out. Transports own
 * bytes and framing; the hub and rooms never see a socket.
 */
export interface Connection {
  readonly transport: TransportKind;
  /** The peer's address (for per-IP limits and logs). */
  readonly remoteAddress: string;
  /**
   * Queues one event for the client. Must not throw; a dead connection ignores it. Returns the
   * bytes now queued for the client or an upper bound of them that costs nothing to keep (it is
   * read once per delivery of every fan-out): the caller asks {@link bufferedBytes} for the exact
   * figure before it acts on a high one.
   */
  send(out: Outbound): number;
  /** Bytes queued for this client and not yet taken by the kernel. */
  bufferedBytes(): number;
  /**
   * Resolves once {@link bufferedBytes} is at most `lowWater`, or the connection closed. Driven by
   * the transport's own write notifications (socket `drain`, the end of a write burst), never by
   * polling; flow-controlled replies (a since_seq replay) wait on it before their next page.
   */
  drained(lowWater: number): Promise<void>;
  /** The profile the client gave, where its door has one (IRC's USER); read when whois asks. */
  profile?(): UserProfile | undefined;
  /** Ends the connection, telling the client why when the transport can. */
  close(reason: CloseReason): void;
}
