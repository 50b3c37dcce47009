import { connect, type Socket } from 'node:net';
import type { BenchClient, ClientEvents, Connector } from './connector.js';
import { nowUs, STAMP } from './connector.js';
import { readUint } from './frames.js';

const STAMP_BYTES = Buffer.from(STAMP);
const PRIVMSG = Buffer.from(' PRIVMSG #');
const CRLF = 0x0a;

/**
 * A benchmark client speaking IRC to the door (`chat bench --irc`): NICK, USER, CAP REQ
 * echo-message (so a publisher sees its own lines, its acknowledgements), JOIN; joined at 366.
 * A delivery is a line holding ` PRIVMSG #` and a stamp; as the WebSocket client, it is found in
 * the bytes read, never decoded.
 */
class IrcBenchClient implements BenchClient {
  private tail: Buffer | undefined;
  private queued: string[] = [];
  private joined = false;
  private ended = false;
  private closeReason = '';

  constructor(
    private readonly socket: Socket,
    private readonly nick: string,
    private readonly roomId: string,
    private readonly publisherId: number | undefined,
    private readonly events: ClientEvents,
    private readonly onJoined: (err?: Error) => void,
  ) {}

  data(chunk: Buffer): void {
    const at = nowUs();
    const buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    this.tail = undefined;
    let start = 0;
    for (;;) {
      const end = buf.indexOf(CRLF, start);
      if (end < 0) break;
      this.line(buf, start, end, at);
      start = end + 1;
    }
    // The net module reuses its buffer: a cut line's start is copied.
    if (start < buf.length) this.tail = Buffer.from(buf.subarray(start));
  }

  private line(buf: Buffer, start: number, end: number, at: number): void {
    const p = buf.indexOf(PRIVMSG, start);
    if (p >= 0 && p < end) {
      const s = buf.indexOf(STAMP_BYTES, p);
      if (s < 0 || s >= end) return;
      let i = s + STAMP_BYTES.length;
      const sent = readUint(buf, i, end);
      if (sent < 0) return;
      this.events.delivery(at - sent);
      if (this.publisherId !== undefined) {
        while (i < end && buf[i] !== 0x2e) i++; // '.'
        if (readUint(buf, i + 1, end) === this.publisherId) this.events.ack(at - sent);
      }
      return;
    }
    const text = buf.toString('utf8', start, end).replace(/\r$/, '');
    this.events.activity();
    if (text.startsWith('PING ')) return this.write(`PONG ${text.slice(5)}\r\n`);
    if (text.startsWith('ERROR ')) {
      this.closeReason = text.slice(6);
      return;
    }
    const numeric = / (\d{3}) /.exec(text)?.[1];
    if (numeric === '366' && !this.joined) {
      this.joined = true;
      this.onJoined();
    } else if (numeric !== undefined && numeric >= '400' && numeric < '600' && numeric !== '422') {
      // 4xx and 5xx are refusals; 422 only says there is no MOTD.
      this.events.error(`irc_${numeric}`);
      if (!this.joined) this.fail(new Error(`server answered ${numeric} while joining: ${text}`));
    }
  }

  /** Registers and joins. */
  start(): void {
    this.write(
      `CAP REQ :echo-message\r\nNICK ${this.nick}\r\nUSER ${this.nick} 0 * :${this.nick}\r\nCAP END\r\nJOIN #${this.roomId}\r\n`,
    );
  }

  publish(roomId: string, text: string): void {
    if (this.ended) return;
    if (this.queued.length === 0) queueFlush(this);
    this.queued.push(`PRIVMSG #${roomId} :${text}\r\n`);
  }

  flush(): void {
    const q = this.queued;
    this.queued = [];
    if (q.length > 0) this.write(q.join(''));
  }

  private write(text: string): void {
    if (!this.ended) this.socket.write(text);
  }

  fail(err: Error): void {
    if (!this.joined) this.onJoined(err);
    this.closeReason ||= err.message;
    this.socket.destroy();
  }

  socketClosed(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.joined) this.onJoined(new Error(this.closeReason || 'connection closed while joining'));
    else this.events.closed(this.closeReason || 'connection closed');
  }

  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }
}

const toFlush = new Set<IrcBenchClient>();
function queueFlush(client: IrcBenchClient): void {
  if (toFlush.size === 0)
    setImmediate(() => {
      for (const c of toFlush) c.flush();
      toFlush.clear();
    });
  toFlush.add(client);
}

/** A {@link Connector} for the IRC door at `host:port` (`chat serve --irc-port`). */
export function ircConnector(host: string, port: number): Connector {
  return (request, events) =>
    new Promise<BenchClient>((resolve, reject) => {
      const socket = connect({
        host,
        port,
        ...(request.localAddress ? { localAddress: request.localAddress } : {}),
      });
      socket.setNoDelay(true);
      let settled = false;
      const timer = setTimeout(
        () => client.fail(new Error(`no join within ${request.timeoutMs} ms`)),
        request.timeoutMs,
      );
      const client = new IrcBenchClient(
        socket,
        request.nick,
        request.roomId,
        request.publisherId,
        events,
        (err) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(client);
        },
      );
      socket.on('connect', () => client.start());
      socket.on('data', (chunk: Buffer) => client.data(chunk));
      socket.on('error', (err) => client.fail(err));
      socket.on('close', () => client.socketClosed());
    });
}
