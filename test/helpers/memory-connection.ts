import type { ServerMessage } from '../../src/protocol/events.js';
import type { CloseReason, Connection } from '../../src/server/connection.js';
import type { Outbound } from '../../src/server/outbound.js';

/** A Connection with no socket: records what the hub sends, for actor and hub unit tests. */
export class MemoryConnection implements Connection {
  readonly transport = 'memory' as const;
  readonly received: ServerMessage[] = [];
  closedWith: CloseReason | undefined;
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  private drainWaiters: { lowWater: number; resolve: () => void }[] = [];
  /** What bufferedBytes reports; a test plays the socket with it (see setBuffered). */
  buffered = 0;

  constructor(readonly remoteAddress = '127.0.0.1') {}

  send(out: Outbound): number {
    // Round-trip through JSON so the test sees exactly what a client would.
    const message = JSON.parse(out.text) as ServerMessage;
    this.received.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(message)) return true;
      w.resolve(message);
      return false;
    });
    return this.buffered;
  }

  bufferedBytes(): number {
    return this.buffered;
  }

  drained(lowWater: number): Promise<void> {
    if (this.closedWith || this.buffered <= lowWater) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ lowWater, resolve }));
  }

  /** Plays the kernel taking (or not taking) bytes: sets bufferedBytes and wakes drained waiters. */
  setBuffered(bytes: number): void {
    this.buffered = bytes;
    this.drainWaiters = this.drainWaiters.filter((w) => {
      if (bytes > w.lowWater && !this.closedWith) return true;
      w.resolve();
      return false;
    });
  }

  /** True while something waits in drained (a replay holding its next page). */
  get waitingForDrain(): boolean {
    return this.drainWaiters.length > 0;
  }

  close(reason: CloseReason): void {
    this.closedWith = reason;
    this.setBuffered(this.buffered);
  }

  /** Messages of one type received so far. */
  ofType<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<ServerMessage, { type: T }>[];
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  next(pred: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message; got ${JSON.stringify(this.received.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Resolves with the reply carrying `ref`. */
  reply(ref: string | number): Promise<ServerMessage> {
    return this.next((m) => m.ref === ref);
  }
}
