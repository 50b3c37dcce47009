/**
 * How the loader opens one benchmark client, whatever library or wire format is under it. The
 * built-in one is {@link rawConnector} (src/load/raw-client.ts); bench/ adds socket.io-client.
 */

/** What a client reports to the loader. */
export interface ClientEvents {
  /** A chat message of this run arrived; `latencyUs` is now minus its embedded send time. */
  delivery(latencyUs: number): void;
  /** A publisher received its own message back: the server's acknowledgement. */
  ack(latencyUs: number): void;
  /** A frame that was not a delivery (join storms, history): the loader waits for these to stop. */
  activity(): void;
  /** The server answered with an error frame. */
  error(code: string): void;
  /** The connection ended; `reason` is the close frame's text when there was one. */
  closed(reason: string): void;
}

/** One open, joined benchmark client. */
export interface BenchClient {
  /** Queues a chat message for the room; written at the end of the turn with the others. */
  publish(roomId: string, text: string): void;
  /** Ends the connection at once. */
  destroy(): void;
}

export interface ConnectRequest {
  /** Nick to identify with, unique per client. */
  nick: string;
  roomId: string;
  /** Local source address (several let one host open more than ~28k connections to one port). */
  localAddress?: string;
  /** Set on publishers: the id their messages carry in the stamp, to recognise their own. */
  publisherId?: number;
  /** Gives up on the handshake + join after this long. */
  timeoutMs: number;
}

/** Opens a client and resolves once it is in its room. */
export type Connector = (request: ConnectRequest, events: ClientEvents) => Promise<BenchClient>;

/** Where a send timestamp sits in a message text: `#t=<µs>.<publisher id>;`. */
export const STAMP = '#t=';

/** µs on the loader's monotonic clock; send and receive happen in this one process. */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

/** The text of one benchmark message: the stamp, padded with `x` to `size` characters. */
export function stampedText(sentUs: number, size: number, publisherId = 0): string {
  const head = `${STAMP}${sentUs}.${publisherId};`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/** Reads the send time and publisher id back out of a message text; sent is -1 without a stamp. */
export function readStamp(text: string): { sent: number; publisherId: number } {
  const match = /#t=(\d+)\.(\d+);/.exec(text);
  return match ? { sent: Number(match[1]), publisherId: Number(match[2]) } : { sent: -1, publisherId: -1 };
}
