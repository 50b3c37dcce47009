import { encodeServerMessage } from '../protocol/codec.js';
import type { ServerMessage } from '../protocol/events.js';

/**
 * One server event on its way out, shared by every recipient. It is serialised to JSON at most
 * once and rendered at most once per transport kind (a WebSocket frame, a TCP line, an SSE
 * block), however many members receive it: fan-out cost is then one write per member.
 */
export class Outbound {
  private json?: string;
  /**
   * The first rendering kept in two fields, the others in a map made for the second kind: most
   * events go out through one door, and every recipient's lookup is a string compare then.
   */
  private firstKind: string | undefined;
  private firstValue: unknown;
  private renders: Map<string, unknown> | undefined;

  constructor(readonly message: ServerMessage) {}

  /** The event as one JSON text, computed on first use. */
  get text(): string {
    return (this.json ??= encodeServerMessage(this.message));
  }

  /** A transport-specific rendering, built once per event by the first recipient of that kind. */
  render<T>(kind: string, build: (out: Outbound) => T): T {
    if (this.firstKind === kind) return this.firstValue as T;
    if (this.firstKind === undefined) {
      const value = build(this);
      this.firstKind = kind;
      this.firstValue = value;
      return value;
    }
    const renders = (this.renders ??= new Map<string, unknown>());
    const cached = renders.get(kind);
    if (cached !== undefined) return cached as T;
    const value = build(this);
    renders.set(kind, value);
    return value;
  }
}

/** Wraps one event for sending. */
export function outbound(message: ServerMessage): Outbound {
  return new Outbound(message);
}
