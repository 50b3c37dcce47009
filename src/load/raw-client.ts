import { connect, type Socket } from 'node:net';
import type { BenchClient, ClientEvents, ConnectRequest, Connector } from './connector.js';
import { nowUs, STAMP } from './connector.js';
import type { Dialect } from './dialects.js';
import {
  clientFrame,
  clientText,
  FrameReader,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  readUint,
  splitResponseHead,
  upgradeRequest,
} from './frames.js';

const STAMP_BYTES = Buffer.from(STAMP);

/**
 * The receive time of the chunk being parsed. Every frame in one chunk arrived together, so the
 * clock is read once per chunk, not once per frame.
 */
let chunkUs = 0;

/**
 * A benchmark client on a bare TCP socket: it does the WebSocket upgrade itself and walks the
 * server's frames in place (see frames.ts). A delivery costs a prefix compare, one indexOf and a
 * few digit reads; no payload is copied or decoded.
 */
class RawClient implements BenchClient {
  private readonly reader: FrameReader;
  private queued: Buffer[] = [];
  private joined = false;
  private ended = false;
  private closeReason = '';

  constructor(
    private readonly socket: Socket,
    private readonly dialect: Dialect,
    private readonly request: ConnectRequest,
    private readonly events: ClientEvents,
    private readonly onJoined: (err?: Error) => void,
  ) {
    this.reader = new FrameReader((op, buf, start, end) => this.frame(op, buf, start, end));
  }

  /** Called with the bytes after the 101 response, then with every chunk read. */
  data(chunk: Buffer): void {
    chunkUs = nowUs();
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private frame(op: number, buf: Buffer, start: number, end: number): void {
    if (op === OP_TEXT) {
      const prefix = this.dialect.deliveryPrefix;
      if (
        end - start >= prefix.length &&
        buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
      ) {
        const at = buf.indexOf(STAMP_BYTES, start);
        if (at < 0 || at >= end) return; // somebody else's chatter in the room: not counted
        let i = at + STAMP_BYTES.length;
        const sent = readUint(buf, i, end);
        if (sent < 0) return;
        this.events.delivery(chunkUs - sent);
        if (this.request.publisherId !== undefined) {
          while (i < end && buf[i] !== 0x2e) i++; // '.'
          if (readUint(buf, i + 1, end) === this.request.publisherId) this.events.ack(chunkUs - sent);
        }
        return;
      }
      this.control(buf.toString('utf8', start, end));
    } else if (op === OP_PING) {
      this.write(clientFrame(OP_PONG, Buffer.from(buf.subarray(start, end))));
    } else if (op === OP_CLOSE) {
      this.closeReason = end - start > 2 ? buf.toString('utf8', start + 2, end) : 'closed';
      this.socket.destroy();
    }
  }

  private control(text: string): void {
    this.events.activity();
    const c = this.dialect.control(text, this.request.roomId);
    if (c.kind === 'joined') {
      if (!this.joined) {
        this.joined = true;
        this.onJoined();
      }
    } else if (c.kind === 'error') {
      this.events.error(c.code);
      if (!this.joined) this.fail(new Error(`server error ${c.code} while joining`));
    } else if (c.kind === 'reply') {
      for (const f of c.frames) this.write(clientText(f));
    }
  }

  publish(roomId: string, text: string): void {
    if (this.ended) return;
    if (this.queued.length === 0) queueFlush(this);
    this.queued.push(clientText(this.dialect.publish(roomId, text)));
  }

  /** Writes what {@link publish} queued this turn in one write. */
  flush(): void {
    const q = this.queued;
    this.queued = [];
    if (this.ended || q.length === 0) return;
    this.socket.write(q.length === 1 ? q[0]! : Buffer.concat(q));
  }

  write(frame: Buffer): void {
    if (!this.ended) this.socket.write(frame);
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

const toFlush = new Set<RawClient>();
function queueFlush(client: RawClient): void {
  if (toFlush.size === 0) {
    setImmediate(() => {
      for (const c of toFlush) c.flush();
      toFlush.clear();
    });
  }
  toFlush.add(client);
}

/**
 * Every socket reads into this one buffer (net's `onread`): a read then costs no 64 KiB allocation
 * and no trip through the stream machinery ('data' events), which were a fifth of the loader's CPU
 * at 100k deliveries/s. Safe because a read is handled synchronously before the next one; the
 * frame reader copies the tail of a cut frame.
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/** A {@link Connector} for `ws://host:port/path` speaking `dialect` over a bare socket. */
export function rawConnector(url: string, dialect: Dialect): Connector {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const path = dialect.path(u.pathname === '/' ? '' : u.pathname);
  return (request, events) =>
    new Promise<BenchClient>((resolve, reject) => {
      let head: Buffer | undefined = Buffer.alloc(0);
      const onRead = (chunk: Buffer): void => {
        if (!head) return client.data(chunk);
        head = Buffer.concat([head, chunk]);
        const split = splitResponseHead(head);
        if (!split) return;
        head = undefined;
        if (!split.head.startsWith('HTTP/1.1 101'))
          return client.fail(new Error(`upgrade refused: ${split.head.split('\r\n')[0]}`));
        for (const f of dialect.opened(request.nick, request.roomId)) client.write(clientText(f));
        if (split.rest.length > 0) client.data(split.rest);
      };
      const socket = connect({
        host,
        port,
        ...(request.localAddress ? { localAddress: request.localAddress } : {}),
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            onRead((buf as Buffer).subarray(0, n));
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      let settled = false;
      const timer = setTimeout(
        () => client.fail(new Error(`no join within ${request.timeoutMs} ms`)),
        request.timeoutMs,
      );
      const client = new RawClient(socket, dialect, request, events, (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(client);
      });
      socket.on('connect', () => socket.write(upgradeRequest(host, port, path)));
      socket.on('error', (err) => client.fail(err));
      socket.on('close', () => client.socketClosed());
    });
}
