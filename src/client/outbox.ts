/** Bounds on the pause after a `rate_limited` refusal (the server says how long in retry_after_ms). */
export const MIN_PACE_MS = 50;
export const MAX_PACE_MS = 10_000;

/** What the outbox needs from the link it writes to. */
export interface OutboxPort {
  /** Whether a message for `roomId` may be written now (the link is up and the room joined). */
  canSendTo(roomId: string): boolean;
  /** Writes one `message` request, with `id` as its client_msg_id and ref. */
  write(id: string, roomId: string, text: string, kind?: 'action'): void;
}

/** A timer the outbox can set and clear (injected so tests move time by hand). */
export interface OutboxTimers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: OutboxTimers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Outgoing {
  roomId: string;
  text: string;
  /** `action` for `/me`. */
  kind?: 'action';
  /** Written on the current socket and not answered yet. */
  sent: boolean;
}

/**
 * The client's chat messages between typing and the server's answer, and their pacing. A
 * message waits until its room is joined on the current socket, is written once, and stays
 * until it is acknowledged or refused for good; after a reconnect ({@link newSocket}) every
 * unanswered one goes again under the same id, so one that did arrive is not stored twice.
 * Once the server refuses one as `rate_limited` (a pasted block), messages go one at a time,
 * the server's retry_after_ms apart, until none is waiting. No socket in here: the link
 * (server-link.ts) says which rooms can take messages and writes them.
 */
export class Outbox {
  /** By client_msg_id, in the order typed. */
  private readonly waiting = new Map<string, Outgoing>();
  /** Set once a message was refused `rate_limited`: ms between messages. Null: no pacing. */
  private paceMs: number | null = null;
  private paceTimer: unknown;

  constructor(
    private readonly port: OutboxPort,
    private readonly timers: OutboxTimers = REAL_TIMERS,
  ) {}

  /** Queues a message and writes it if its room can take it now. */
  add(id: string, roomId: string, text: string, kind?: 'action'): void {
    this.waiting.set(id, { roomId, text, sent: false, ...(kind !== undefined ? { kind } : {}) });
    this.flush();
  }

  /** Moves waiting messages of room `from` to `to` (the server's spelling of a room asked for in another case). */
  renameRoom(from: string, to: string): void {
    for (const out of this.waiting.values()) if (out.roomId === from) out.roomId = to;
  }

  /** True while `id` waits for an answer (or to be written). */
  has(id: string): boolean {
    return this.waiting.has(id);
  }

  /** Ids waiting, in the order typed. */
  ids(): string[] {
    return [...this.waiting.keys()];
  }

  /** Writes every waiting message that can go now, in the order typed (none while paced). */
  flush(): void {
    if (this.paceMs !== null) return;
    for (const [id, out] of this.waiting)
      if (!out.sent && this.port.canSendTo(out.roomId)) this.writeOne(id, out);
  }

  /** `id` was acknowledged or refused for good; a paced outbox sends the next one later. */
  settled(id: string): void {
    this.waiting.delete(id);
    if (this.paceMs !== null && this.paceTimer === undefined) this.schedulePaced(this.paceMs);
  }

  /**
   * The server refused `id` as too fast: it waits (still shown as sending) and goes again after
   * the pause. Returns false when `id` is no message of ours.
   */
  rateLimited(id: string, retryAfterMs: number | undefined): boolean {
    const out = this.waiting.get(id);
    if (!out) return false;
    out.sent = false;
    this.paceMs = Math.min(MAX_PACE_MS, Math.max(MIN_PACE_MS, retryAfterMs ?? 1_000));
    this.schedulePaced(this.paceMs);
    return true;
  }

  /** The room was left: what waited for it is dropped without a word. */
  forgetRoom(roomId: string): void {
    for (const [id, out] of this.waiting) if (out.roomId === roomId) this.waiting.delete(id);
  }

  /** The room's join was refused: what waited for it is settled (refused for good). */
  refuseRoom(roomId: string): void {
    for (const [id, out] of this.waiting) if (out.roomId === roomId) this.settled(id);
  }

  /** A new socket: nothing is in flight on it, and its session has a fresh rate limit. */
  newSocket(): void {
    for (const out of this.waiting.values()) out.sent = false;
    this.stopPacing();
  }

  /** Stops the pacing timer (the link is closing). */
  close(): void {
    this.stopPacing();
  }

  private stopPacing(): void {
    if (this.paceTimer !== undefined) this.timers.clear(this.paceTimer);
    this.paceTimer = undefined;
    this.paceMs = null;
  }

  private schedulePaced(delay: number): void {
    if (this.paceTimer !== undefined) this.timers.clear(this.paceTimer);
    this.paceTimer = this.timers.set(() => {
      this.paceTimer = undefined;
      const next = [...this.waiting].find(([, out]) => !out.sent && this.port.canSendTo(out.roomId));
      if (next) this.writeOne(next[0], next[1]);
      // Nothing left to pace (or nothing sendable yet: joins and reconnects flush it later).
      else this.paceMs = null;
    }, delay);
  }

  private writeOne(id: string, out: Outgoing): void {
    out.sent = true;
    this.port.write(id, out.roomId, out.text, out.kind);
  }
}
