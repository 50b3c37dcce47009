import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One parsed Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal SSE reader for tests (the EventSource parsing rules: fields per line, a blank line
 * dispatches, `:` lines are comments). Records comments too, to see heartbeats.
 */
export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';
  private current: { id?: string; event?: string; data: string[] } = { data: [] };
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    res.on('end', () => {
      this.ended = true;
      this.poke();
    });
    res.on('error', () => {});
    req.on('error', () => {});
  }

  /** Opens `url` with optional headers; resolves once the response head arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseTestClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) =>
        resolve(new SseTestClient(req, res)),
      );
      req.once('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** `message` events' protocol payloads, in arrival order. */
  messages(): { seq: number; user_name: string; message: string; room_id: string }[] {
    return this.events
      .filter((e) => e.event === 'message')
      .map(
        (e) =>
          (
            JSON.parse(e.data) as {
              payload: { seq: number; user_name: string; message: string; room_id: string };
            }
          ).payload,
      );
  }

  /** Resolves once an event of that name (and matching `pred`) arrived. */
  async waitEvent(
    event: string,
    pred: (e: SseEvent) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<SseEvent> {
    let found: SseEvent | undefined;
    await this.until(
      () => (found = this.events.find((e) => e.event === event && pred(e))) !== undefined,
      `event ${event}`,
      timeoutMs,
    );
    return found!;
  }

  /** Resolves once `count` message events arrived. */
  async waitMessages(count: number, timeoutMs = 10_000): Promise<ReturnType<SseTestClient['messages']>> {
    await this.until(() => this.messages().length >= count, `${count} messages`, timeoutMs);
    return this.messages();
  }

  /** Resolves once a comment line starting with `text` arrived. */
  waitComment(text: string, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.comments.some((c) => c.startsWith(text)), `comment ${text}`, timeoutMs);
  }

  /** Resolves when the server ended the stream. */
  waitEnded(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.ended, 'the end of the stream', timeoutMs);
  }

  close(): void {
    this.req.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      this.line(line);
    }
    this.poke();
  }

  private line(line: string): void {
    if (line === '') {
      if (this.current.data.length > 0) {
        const e: SseEvent = { event: this.current.event ?? 'message', data: this.current.data.join('\n') };
        if (this.current.id !== undefined) e.id = this.current.id;
        this.events.push(e);
      }
      this.current = { data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.current.data.push(value);
    else if (field === 'event') this.current.event = value;
    else if (field === 'id') this.current.id = value;
  }

  private until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-5))}`),
          ),
        timeoutMs,
      );
      this.waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private poke(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}
