/**
 * A WebSocket client on a bare TCP socket, for tests that must send what a well-behaved
 * library never would: arbitrary opcodes and RSV bits, invalid UTF-8 in text frames, thousands
 * of empty fragments, or nothing at all (a reader that never reads). It parses the server's
 * frames itself so replies can be counted without a second library in the way.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** How the connection ended: the server's close frame (code and reason) or just the socket. */
export interface RawClose {
  code: number | undefined;
  reason: string;
  /** True when the server sent a close frame before the socket ended. */
  closeFrame: boolean;
}

/** One client frame; defaults make a masked final frame. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  /** RSV1-3 as the three bits 0b100, 0b010, 0b001. */
  rsv?: number;
  /** Unmasked client frames are a protocol error; false sends one. */
  mask?: boolean;
  /** A random mask key instead of the all-zero one (which leaves the payload as is). */
  randomMask?: boolean;
}

const ZERO_MASK = Buffer.alloc(4);

/** Encodes one client-to-server frame. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const masked = spec.mask ?? true;
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + (masked ? 4 : 0));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  header[1] = (masked ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127);
  if (extra === 2) header.writeUInt16BE(len, 2);
  if (extra === 8) header.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([header, payload]);
  const key = spec.randomMask ? randomBytes(4) : ZERO_MASK;
  key.copy(header, 2 + extra);
  if (!spec.randomMask) return Buffer.concat([header, payload]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([header, body]);
}

/** Writes an HTTP upgrade request; `extraHeaders` go before or after the WebSocket ones. */
export function upgradeRequest(path = '/ws', extraHeaders: string[] = [], extraFirst = false): string {
  const ws = [
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
  ];
  const headers = extraFirst ? [...extraHeaders, ...ws] : [...ws, ...extraHeaders];
  return `GET ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
}

/** A raw WebSocket connection that completed the handshake. */
export class RawWs {
  /** Text frames received, in order, if no onText handler is set. */
  readonly texts: string[] = [];
  /** Called for every text frame from the server; replaces collection in `texts`. */
  onText: ((text: string) => void) | undefined;
  pongs = 0;
  /** Called after every frame from the server is handled. */
  onFrame: (() => void) | undefined;
  /** Bytes of server frames parsed so far. */
  bytesIn = 0;
  readonly closed: Promise<RawClose>;
  isClosed = false;
  private buf: Buffer = Buffer.alloc(0);
  private closeInfo: { code: number | undefined; reason: string } | undefined;

  private constructor(
    readonly socket: Socket,
    leftover: Buffer,
  ) {
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.isClosed = true;
        resolve({
          code: this.closeInfo?.code,
          reason: this.closeInfo?.reason ?? '',
          closeFrame: this.closeInfo !== undefined,
        });
      };
      socket.once('close', done);
    });
    socket.on('error', () => {
      // Resets are expected when the server drops a hostile peer; 'close' follows.
    });
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    if (leftover.length > 0) this.feed(leftover);
  }

  /** Connects, sends the upgrade request and resolves once the server answered 101. */
  static connect(
    port: number,
    options: { path?: string; headers?: string[]; host?: string } = {},
  ): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port, noDelay: true });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const status = head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? '';
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${status}`));
          return;
        }
        resolve(new RawWs(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(upgradeRequest(options.path ?? '/ws', options.headers ?? []));
    });
  }

  /** Sends one frame; returns the socket's write() result (false: the kernel buffer is full). */
  frame(spec: FrameSpec): boolean {
    return this.socket.write(encodeFrame(spec));
  }

  /** Sends a text frame holding `text` (a string) or exactly `bytes` (possibly invalid UTF-8). */
  text(data: string | Buffer): boolean {
    return this.frame({ opcode: 1, payload: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
  }

  /** Sends several already-encoded frames in one write. */
  writeMany(frames: readonly Buffer[]): boolean {
    return this.socket.write(Buffer.concat(frames));
  }

  /** Starts the closing handshake and ends the socket. */
  close(): void {
    if (this.isClosed) return;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(1000);
    this.socket.end(encodeFrame({ opcode: 8, payload: body }));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private feed(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        offset = 10;
      }
      if (b1 & 0x80) offset += 4; // a server never masks; skip a key if one came anyway
      if (this.buf.length < offset + len) return;
      const payload = this.buf.subarray(offset, offset + len);
      this.buf = this.buf.subarray(offset + len);
      this.bytesIn += offset + len;
      this.handle(b0 & 0x0f, payload);
      this.onFrame?.();
    }
  }

  private handle(opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 1: {
        const text = payload.toString('utf8');
        if (this.onText) this.onText(text);
        else this.texts.push(text);
        return;
      }
      case 8:
        this.closeInfo = {
          code: payload.length >= 2 ? payload.readUInt16BE(0) : undefined,
          reason: payload.subarray(2).toString('utf8'),
        };
        // Complete the closing handshake as a polite client would.
        if (!this.socket.destroyed && this.socket.writable)
          this.socket.end(encodeFrame({ opcode: 8, payload: Buffer.from(payload.subarray(0, 2)) }));
        return;
      case 9:
        if (!this.socket.destroyed) this.frame({ opcode: 10, payload: Buffer.from(payload) });
        return;
      case 10:
        this.pongs++;
        return;
    }
  }
}

/** Sends a raw HTTP request and collects whatever comes back until the server closes. */
export function rawHttp(
  port: number,
  request: string | Buffer,
  timeoutMs = 10_000,
): Promise<{ response: string; ended: 'closed' | 'timeout' }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString('latin1'), ended: 'timeout' });
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ response: Buffer.concat(chunks).toString('latin1'), ended: 'closed' });
    });
    socket.write(request);
  });
}
