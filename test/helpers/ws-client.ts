import WebSocket from 'ws';
import type { ServerMessage } from '../../src/protocol/events.js';

/** A real WebSocket client for tests: sends JSON, collects every event, waits for matches. */
export class TestClient {
  readonly received: ServerMessage[] = [];
  closed = false;
  closeCode: number | undefined;
  closeReason = '';
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  private refCounter = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      this.received.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  /** Opens a connection and resolves once it is open. */
  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestClient(ws);
  }

  /** Sends a raw text frame. */
  raw(text: string): void {
    this.ws.send(text);
  }

  /** Sends a request without waiting. */
  send(type: string, payload: unknown, ref?: string | number): void {
    this.ws.send(JSON.stringify(ref === undefined ? { type, payload } : { type, payload, ref }));
  }

  /** Sends a request with a fresh ref and resolves with the reply (or error) carrying it. */
  async request(type: string, payload: unknown): Promise<ServerMessage> {
    const ref = `r${++this.refCounter}`;
    const reply = this.next((m) => m.ref === ref);
    this.send(type, payload, ref);
    return reply;
  }

  /** Resolves with the first event (already received or future) matching `pred`. */
  next(pred: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out; last events: ${JSON.stringify(this.received.slice(-3))}`)),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Resolves once `count` events match `pred` (counting those already received). */
  waitCount(
    pred: (m: ServerMessage) => boolean,
    count: number,
    timeoutMs = 20_000,
  ): Promise<ServerMessage[]> {
    const matching = this.received.filter(pred);
    if (matching.length >= count) return Promise.resolve(matching);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${matching.length}/${count} events arrived`)),
        timeoutMs,
      );
      const waiter = {
        pred: (m: ServerMessage) => {
          if (pred(m)) matching.push(m);
          return matching.length >= count;
        },
        resolve: () => (clearTimeout(timer), resolve(matching)),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves when the server closes the connection. */
  async closedByServer(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return { code: this.closeCode ?? 0, reason: this.closeReason };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not closed')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** Identifies with hello and resolves with the welcome. */
  async hello(userName: string): Promise<ServerMessage> {
    return this.request('hello', { user_name: userName });
  }

  close(): void {
    this.ws.close();
  }
}
