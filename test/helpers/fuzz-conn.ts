/**
 * One pipelining fuzz connection: a raw WebSocket, the ledger of answers it is owed, and the
 * figures every fuzz leg prints.
 */
import { ReplyLedger } from './ledger.js';
import { RawWs, type RawClose } from './raw-ws.js';

/** Close codes that count as a clean close: normal, going away, protocol/data/policy/size, app codes. */
export function isCleanClose(close: RawClose): boolean {
  if (!close.closeFrame || close.code === undefined) return false;
  return (
    [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011].includes(close.code) ||
    (close.code >= 4000 && close.code <= 4999)
  );
}

/** Totals across a fuzz leg. */
export class FuzzStats {
  sent = 0;
  skipped = 0;
  answeredByEvent = 0;
  answeredByClose = 0;
  connections = 0;
  internalErrors = 0;
  pongsExpected = 0;
  pongs = 0;
  readonly closes = new Map<string, number>();
  readonly errorCodes = new Map<string, number>();
  readonly anomalies: string[] = [];

  noteClose(close: RawClose): void {
    const key = close.closeFrame ? String(close.code) : 'no-close-frame';
    this.closes.set(key, (this.closes.get(key) ?? 0) + 1);
  }

  merge(conn: FuzzConn): void {
    this.answeredByEvent += conn.ledger.answered;
    this.pongs += Math.min(conn.raw.pongs, conn.pongsExpected);
    this.pongsExpected += conn.pongsExpected;
    for (const [code, n] of conn.ledger.codes)
      this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + n);
    this.internalErrors += conn.ledger.codes.get('internal_error') ?? 0;
    this.anomalies.push(...conn.ledger.anomalies);
  }

  summary(): string {
    const fmt = (m: Map<string, number>): string =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}=${n}`)
        .join(' ');
    return `connections=${this.connections} skipped=${this.skipped} answered_by_event=${this.answeredByEvent} answered_by_close=${this.answeredByClose} pongs=${this.pongs}/${this.pongsExpected}\n  closes: ${fmt(this.closes)}\n  error codes: ${fmt(this.errorCodes)}`;
  }
}

export class FuzzConn {
  readonly ledger = new ReplyLedger();
  pongsExpected = 0;
  close: RawClose | undefined;
  private wake: (() => void) | undefined;

  private constructor(readonly raw: RawWs) {
    raw.onText = (text) => {
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch {
        this.ledger.anomalies.push(`server sent invalid JSON: ${text.slice(0, 100)}`);
        return;
      }
      this.ledger.onEvent(event as Parameters<ReplyLedger['onEvent']>[0]);
    };
    raw.onFrame = () => this.poke();
    void raw.closed.then((close) => {
      this.close = close;
      this.poke();
    });
  }

  static async open(port: number, stats: FuzzStats): Promise<FuzzConn> {
    stats.connections++;
    return new FuzzConn(await RawWs.connect(port));
  }

  private get settledNow(): boolean {
    return (
      this.close !== undefined || (this.ledger.outstanding === 0 && this.raw.pongs >= this.pongsExpected)
    );
  }

  private poke(): void {
    if (this.wake && this.settledNow) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
  }

  /** Resolves once every frame sent is answered, or the connection closed; rejects after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.settledNow) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.wake = resolve;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `fuzz connection not answered within ${timeoutMs} ms: ${this.ledger.describe()}, pongs ${this.raw.pongs}/${this.pongsExpected}`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Sends the closing frame last and checks the server closes with `code`; a connection that
   * already closed is checked for a clean close instead.
   */
  async expectClose(stats: FuzzStats, send: () => void, code: number, timeoutMs: number): Promise<void> {
    if (!this.close) send();
    let timer: NodeJS.Timeout | undefined;
    const close = await Promise.race([
      this.raw.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`server did not close after a frame that must close (${code})`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    this.finish(stats, close);
    // The frame that had to close the connection was answered by that close.
    stats.answeredByClose++;
    if (close.code !== code)
      stats.anomalies.push(
        `expected close ${code}, got ${close.closeFrame ? close.code : 'no close frame'} ${close.reason}`,
      );
  }

  /** Closes politely and folds this connection's figures into `stats`. */
  async end(stats: FuzzStats): Promise<void> {
    if (!this.close) this.raw.close();
    const close = await this.raw.closed;
    this.finish(stats, close);
  }

  private finished = false;
  private finish(stats: FuzzStats, close: RawClose): void {
    if (this.finished) return;
    this.finished = true;
    stats.answeredByClose += this.ledger.closeOutstanding();
    stats.noteClose(close);
    stats.merge(this);
  }
}
