import type { ErrorCode } from '../protocol/errors.js';
import type { ServerMessage } from '../protocol/events.js';
import type { ClientMessage } from '../protocol/schema.js';

/** Where the link to the server stands, as the status bar shows it. */
export type ConnectionStatus =
  | { state: 'connecting' }
  /** The socket is open and `welcome` arrived: the nick is bound. */
  | { state: 'connected' }
  /** The socket is open but the server refused our nick; waiting for the user to pick one. */
  | { state: 'identifying' }
  /** The socket dropped; the next attempt starts at `retryAt` (ms since the epoch). */
  | { state: 'reconnecting'; attempt: number; retryAt: number; reason?: string }
  | { state: 'closed' };

/** A request as the client builds it: no ref (the connection adds one). */
export type OutgoingRequest = {
  [T in ClientMessage['type']]: Omit<Extract<ClientMessage, { type: T }>, 'ref'>;
}[ClientMessage['type']];

/** Everything a connection reports to its owner, in the order it happened. */
export type ConnectionSignal =
  | { kind: 'event'; event: ServerMessage }
  | { kind: 'status'; status: ConnectionStatus }
  /** Round-trip time of the last ping, in milliseconds. */
  | { kind: 'lag'; ms: number }
  /** `hello` was refused: the user must choose another nick (or give the password). */
  | { kind: 'nick_rejected'; nick: string; code: ErrorCode; message: string }
  /** The server refused a join (the room is forgotten, with the messages that waited for it). */
  | { kind: 'join_failed'; roomId: string; code: ErrorCode; message: string };

/**
 * The client's link to the server, as the TUI sees it. The real one reconnects by itself and
 * re-identifies and rejoins; tests use a fake with the same shape.
 */
export interface ChatConnection {
  /** The server address, for the status bar. */
  readonly url: string;
  /** Starts connecting; idempotent. */
  start(): void;
  /** Listens to events, status changes and lag; returns the unsubscribe function. */
  subscribe(listener: (signal: ConnectionSignal) => void): () => void;
  /** Binds (or retries) the nick: sent now if connected, and again on every reconnect. */
  identify(nick: string, password?: string): void;
  /**
   * Joins a room now (or on reconnect) and keeps it joined across reconnects; with `sinceSeq`
   * (a room remembered from the last run) the server replays what came after it, unless the
   * room's history is no longer the one of `epoch` (its `joined.epoch` when that seq was seen).
   */
  joinRoom(roomId: string, sinceSeq?: number, epoch?: string): void;
  /** Leaves a room and stops rejoining it. */
  leaveRoom(roomId: string): void;
  /**
   * Sends a chat message with an idempotency key; while disconnected, or while its room's join
   * is unanswered, it waits, and it is resent after a reconnect until the server acknowledged
   * it. Returns the key.
   */
  sendMessage(roomId: string, text: string, kind?: 'action'): string;
  /** Sends any other request when connected; returns its ref, or undefined when offline. */
  send(request: OutgoingRequest): string | undefined;
  /** Closes for good: no more reconnects. */
  close(): void;
}
