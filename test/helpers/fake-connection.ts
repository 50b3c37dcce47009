import type {
  ChatConnection,
  ConnectionSignal,
  ConnectionStatus,
  OutgoingRequest,
} from '../../src/client/server-link-types.js';
import type { ServerMessage } from '../../src/protocol/events.js';

/** A record of what the App asked the connection to do. */
export type Call =
  | { op: 'identify'; nick: string; password?: string }
  | { op: 'join'; room: string; sinceSeq?: number }
  | { op: 'leave'; room: string }
  | { op: 'message'; room: string; text: string; id: string; kind?: 'action' }
  | { op: 'send'; request: OutgoingRequest; ref: string };

/** A connection the test drives by hand: it records calls and emits what the test says. */
export class FakeConnection implements ChatConnection {
  readonly url = 'ws://fake:1/ws';
  readonly calls: Call[] = [];
  online = true;
  started = false;
  private listeners = new Set<(s: ConnectionSignal) => void>();
  private counter = 0;

  start(): void {
    this.started = true;
  }
  subscribe(listener: (s: ConnectionSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  identify(nick: string, password?: string): void {
    this.calls.push(password === undefined ? { op: 'identify', nick } : { op: 'identify', nick, password });
  }
  joinRoom(room: string, sinceSeq?: number): void {
    this.calls.push(sinceSeq === undefined ? { op: 'join', room } : { op: 'join', room, sinceSeq });
  }
  leaveRoom(room: string): void {
    this.calls.push({ op: 'leave', room });
  }
  sendMessage(room: string, text: string, kind?: 'action'): string {
    const id = `c${this.counter++}`;
    this.calls.push({ op: 'message', room, text, id, ...(kind !== undefined ? { kind } : {}) });
    return id;
  }
  send(request: OutgoingRequest): string | undefined {
    if (!this.online) return undefined;
    const ref = `r${this.counter++}`;
    this.calls.push({ op: 'send', request, ref });
    return ref;
  }
  close(): void {}

  /** Delivers server events (as one burst). */
  emit(...events: ServerMessage[]): void {
    for (const event of events) this.signal({ kind: 'event', event });
  }
  status(status: ConnectionStatus): void {
    this.signal({ kind: 'status', status });
  }
  signal(signal: ConnectionSignal): void {
    for (const l of [...this.listeners]) l(signal);
  }
  /** The requests of one type sent so far. */
  sent<T extends OutgoingRequest['type']>(type: T): Extract<OutgoingRequest, { type: T }>[] {
    return this.calls.flatMap((c) =>
      c.op === 'send' && c.request.type === type ? [c.request as Extract<OutgoingRequest, { type: T }>] : [],
    );
  }
}
