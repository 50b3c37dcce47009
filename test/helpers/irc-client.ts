import { TcpTestClient } from './tcp-client.js';

/**
 * A raw IRC client for tests: literal lines out, every line in. `register` does what an IRC
 * client does on connect (CAP LS 302, the caps asked for, NICK, USER, CAP END) and waits for 001.
 */
export class IrcTestClient {
  private constructor(readonly tcp: TcpTestClient) {}

  static async connect(port: number): Promise<IrcTestClient> {
    return new IrcTestClient(await TcpTestClient.connect(port));
  }

  /** Connects and registers as `nick` with these caps; resolves once 001 came. */
  static async register(
    port: number,
    nick: string,
    options: { caps?: string[]; pass?: string } = {},
  ): Promise<IrcTestClient> {
    const c = await IrcTestClient.connect(port);
    const caps = options.caps ?? [];
    if (caps.length > 0) c.send('CAP LS 302');
    if (options.pass !== undefined) c.send(`PASS ${options.pass}`);
    c.send(`NICK ${nick}`);
    c.send(`USER ${nick} 0 * :${nick} real`);
    if (caps.length > 0) {
      c.send(`CAP REQ :${caps.join(' ')}`);
      await c.wait(/ CAP \S+ ACK /);
      c.send('CAP END');
    }
    await c.wait(/^:\S+ 001 /);
    return c;
  }

  send(line: string): void {
    this.tcp.write(`${line}\r\n`);
  }

  get lines(): string[] {
    return this.tcp.lines;
  }

  /** The first line received that matches (waits for it). */
  wait(match: RegExp, timeoutMs?: number): Promise<string> {
    return this.tcp.waitLine(match, timeoutMs);
  }

  /** The lines that match once there are `count` of them. */
  waitCount(match: RegExp, count: number): Promise<string[]> {
    return this.tcp.waitLines((l) => match.test(l), count);
  }

  /** Lines received after the first `from` ones: what a command since then brought. */
  since(from: number): string[] {
    return this.lines.slice(from);
  }

  waitClosed(): Promise<void> {
    return this.tcp.waitClosed();
  }

  close(): void {
    this.tcp.close();
  }
}
