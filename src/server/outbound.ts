import { encodeServerMessage } from '../protocol/codec.js';
import type { ServerMessage } from '../protocol/events.js';

/**
 * One server event on its way out, shared by every recipient. It is serialised to JSON at most
 * once and rendered at most once per transport kind (a WebSocket frame, a TCP line, an SSE
 * block), however many members receive it: fan-out cost is then one write per member.
 */
export class Outbound {
  private json?: string;
  private readonly renders = new Map<string, unknown>();

  constructor(readonly message: ServerMessage) {}

  /** The event as one JSON text, computed on first use. */
  get text(): string {
    return (this.json ??= encodeServerMessage(this.message));
  }

  /** A transport-specific rendering, built once per event by the first recipient of that kind. */
  render<T>(kind: string, build: (out: Outbound) => T): T {
    const cached = this.renders.get(kind);
    if (cached !== undefined) return cached as T;
    const value = build(this);
    this.renders.set(kind, value);
    return value;
  }
}

/** Wraps one event for sending. */
export function outbound(message: ServerMessage): Outbound {
  return new Outbound(message);
}
