import { connect, type Socket } from 'node:net';

/** A raw TCP line client for tests: writes literal bytes, collects every byte and line it gets. */
export class TcpTestClient {
  /** Every byte received, in order. */
  raw = Buffer.alloc(0);
  closed = false;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.poke();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => {});
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<TcpTestClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TcpTestClient(socket);
  }

  /** Connects, answers the nick prompt and waits until the default room is joined. */
  static async login(port: number, nick: string, room = 'lobby'): Promise<TcpTestClient> {
    const client = await TcpTestClient.connect(port);
    await client.waitText('nick: ');
    client.write(`${nick}\n`);
    await client.waitLine(`*** you joined #${room}`);
    return client;
  }

  /** Everything received as text. */
  get text(): string {
    return this.raw.toString('utf8');
  }

  /** Complete lines received (CRLF removed). */
  get lines(): string[] {
    const parts = this.text.split('\r\n');
    parts.pop();
    return parts;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Resolves with the first complete line that starts with `prefix` (or matches the regexp /
   * predicate). A prompt (`nick: `, `password: `) has no line ending, so the server's next line
   * follows it on the wire; a string prefix is matched after such a prompt too.
   */
  waitLine(match: string | RegExp | ((line: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const test = (line: string): boolean =>
      typeof match === 'string'
        ? line.replace(/^(nick|password): /, '').startsWith(match)
        : match instanceof RegExp
          ? match.test(line)
          : match(line);
    let found: string | undefined;
    return this.until(
      () => (found = this.lines.find(test)) !== undefined,
      `a line matching ${String(match)}`,
      timeoutMs,
    ).then(() => found!);
  }

  /** Resolves once `count` complete lines match. */
  async waitLines(match: (line: string) => boolean, count: number, timeoutMs = 10_000): Promise<string[]> {
    await this.until(() => this.lines.filter(match).length >= count, `${count} matching lines`, timeoutMs);
    return this.lines.filter(match);
  }

  /** Resolves once `text` occurs in the output `times` times (prompts have no line ending). */
  waitText(text: string, times = 1, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.text.split(text).length - 1 >= times, `"${text}" x${times}`, timeoutMs);
  }

  /** Resolves when the server closed the connection. */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.closed, 'close', timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.check !== check);
        reject(new Error(`timed out waiting for ${what}; got:\n${this.text.slice(-1500)}`));
      }, timeoutMs);
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
