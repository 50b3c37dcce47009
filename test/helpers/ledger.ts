/**
 * Reply accounting for pipelined fuzz frames. Every frame sent expects one of:
 * - `reply`: a valid request carrying a ref; at least one server event must echo that ref;
 * - `error`: an invalid frame whose ref the server can read; exactly one `error` echoes it;
 * - a ref-less `error`: an invalid frame without a readable ref; exactly one ref-less error,
 *   in order (ref-less errors only ever answer such frames, because every valid frame sent
 *   carries a ref).
 * A clean close answers whatever is still outstanding on that connection.
 */

/** The key a ref is matched on: the JSON form, so -0 and 0 (which JSON cannot tell apart) are one. */
export function refKey(ref: unknown): string {
  return `${typeof ref}:${JSON.stringify(ref)}`;
}

interface ServerEvent {
  type?: unknown;
  ref?: unknown;
  payload?: { code?: unknown } | null;
}

export class ReplyLedger {
  private readonly pending = new Map<string, { kind: 'reply' | 'error'; code?: string }>();
  private readonly refless: string[] = [];
  /** Keys ever expected on this connection: a ref is used at most once per connection. */
  private readonly used = new Set<string>();
  answered = 0;
  /** Replies that broke the contract (unknown ref, wrong code, a second error for one frame). */
  readonly anomalies: string[] = [];
  /** Error codes seen, for the report. */
  readonly codes = new Map<string, number>();
  private waiter: (() => void) | undefined;

  /** True when `key` was already expected on this connection (pick another ref). */
  isUsed(key: string): boolean {
    return this.used.has(key);
  }

  expectReply(key: string): void {
    this.used.add(key);
    this.pending.set(key, { kind: 'reply' });
  }

  expectError(key: string | undefined, code: string): void {
    if (key === undefined) {
      this.refless.push(code);
      return;
    }
    this.used.add(key);
    this.pending.set(key, { kind: 'error', code });
  }

  /** Frames still waiting for their answer. */
  get outstanding(): number {
    return this.pending.size + this.refless.length;
  }

  /** Feeds one server event (parsed JSON). */
  onEvent(event: ServerEvent): void {
    if (event.type === 'error') {
      const code = String(event.payload?.code);
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
    if (event.ref === undefined) {
      if (event.type !== 'error') return; // broadcasts from other members
      const want = this.refless.shift();
      if (want === undefined)
        this.anomalies.push(`unexpected ref-less error ${JSON.stringify(event).slice(0, 200)}`);
      else if (want !== event.payload?.code)
        this.anomalies.push(`ref-less error ${String(event.payload?.code)}, expected ${want}`);
      else this.answered++;
      this.check();
      return;
    }
    const key = refKey(event.ref);
    const entry = this.pending.get(key);
    if (!entry) {
      // Later events for an answered request (joined after welcome, history after joined) are fine;
      // a second error for a frame that can only produce one is not.
      if (!this.used.has(key))
        this.anomalies.push(`reply with unknown ref ${key}: ${JSON.stringify(event).slice(0, 200)}`);
      return;
    }
    if (entry.kind === 'error' && (event.type !== 'error' || event.payload?.code !== entry.code)) {
      this.anomalies.push(
        `ref ${key}: expected error ${entry.code}, got ${JSON.stringify(event).slice(0, 200)}`,
      );
    }
    this.pending.delete(key);
    this.answered++;
    this.check();
  }

  /** The connection closed: everything outstanding was answered by the close. Returns how many. */
  closeOutstanding(): number {
    const n = this.outstanding;
    this.pending.clear();
    this.refless.length = 0;
    this.check();
    return n;
  }

  /** Resolves once nothing is outstanding. */
  settled(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** A short description of what is still outstanding (for timeouts). */
  describe(): string {
    return `${this.pending.size} by ref (${[...this.pending.keys()].slice(0, 5).join(', ')}), ${this.refless.length} ref-less`;
  }

  private check(): void {
    if (this.outstanding === 0 && this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    }
  }
}
