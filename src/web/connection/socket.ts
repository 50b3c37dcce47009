import type { RequestPayload, RequestType } from '../../protocol/schema.js';
import type { WireEvent } from '../state/events.js';
import type { RequestMeta } from '../state/types.js';

/**
 * One WebSocket to the server: requests out (each with a ref, remembered until its answer),
 * events in, and a heartbeat that notices a connection that died silently. It does not decide
 * whether to reconnect; it reports that the socket is gone and the client decides.
 */

const PING_EVERY_MS = 25_000;
const PONG_TIMEOUT_MS = 10_000;
/** Requests remembered at most; the oldest is forgotten first (its answer then reads as unasked). */
const MAX_PENDING = 500;
const OPEN = 1;

/** What a {@link Socket} reports. */
export interface SocketEvents {
  opened(): void;
  /** One event, and the request it answers when its ref matched one. */
  received(event: WireEvent, request: RequestMeta | undefined): void;
  /** The socket is gone: closed by the server, the network, or a missed pong. */
  lost(): void;
}

/** The WebSocket constructor (a test may pass another). */
export type WebSocketLike = new (url: string) => WebSocket;

export class Socket {
  private ws: WebSocket | null = null;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Map<string, RequestMeta>();
  private nextRef = 1;

  constructor(
    private readonly url: string,
    private readonly events: SocketEvents,
    private readonly WebSocketImpl: WebSocketLike = globalThis.WebSocket,
  ) {}

  /** True while there is a socket, open or still opening. */
  get exists(): boolean {
    return this.ws !== null;
  }

  /** True when requests can be sent. */
  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === OPEN;
  }

  /** Opens a new socket; false when the browser refused to create one. */
  open(): boolean {
    let ws: WebSocket;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch {
      return false;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.startHeartbeat();
      this.events.opened();
    };
    ws.onmessage = (e) => {
      if (this.ws === ws) this.receive(e.data);
    };
    ws.onclose = () => {
      if (this.ws === ws) this.lose();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    return true;
  }

  /** Closes the socket without reporting it (the client chose to), forgetting pending requests. */
  close(code?: number, reason?: string): void {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    this.pending.clear();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closing */
    }
  }

  /** Sends one request; returns its ref, or null when not connected. */
  send<T extends RequestType>(
    type: T,
    payload: RequestPayload<T>,
    meta: Omit<RequestMeta, 'type'> = {},
  ): string | null {
    if (!this.ws || this.ws.readyState !== OPEN) return null;
    const ref = `w${this.nextRef++}`;
    this.pending.set(ref, { type, ...meta });
    if (this.pending.size > MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.ws.send(JSON.stringify({ type, payload, ref }));
    return ref;
  }

  private lose(): void {
    this.close();
    this.events.lost();
  }

  private receive(data: unknown): void {
    let event: unknown;
    try {
      event = JSON.parse(String(data));
    } catch {
      return;
    }
    if (!isEvent(event)) return;
    const ref = typeof event.ref === 'string' ? event.ref : undefined;
    const request = ref !== undefined ? this.pending.get(ref) : undefined;
    if (ref !== undefined && request) this.pending.delete(ref);
    if (event.type === 'pong') clearTimeout(this.pongTimer);
    this.events.received(event, request);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send('ping', { ts: Date.now() })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.lose(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  private stopHeartbeat(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = undefined;
  }
}

function isEvent(value: unknown): value is WireEvent {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
