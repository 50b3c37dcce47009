import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * The few WebSocket pieces a load generator needs, without a WebSocket library: the upgrade
 * request, a masked client frame, and a reader that walks the unmasked frames a server sends.
 * The reader hands out offsets into the received chunk instead of copying each payload, which is
 * what lets one loader process absorb a million deliveries a second.
 */

export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** The HTTP request that opens a WebSocket on `path`. */
export function upgradeRequest(host: string, port: number, path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

/** A client-to-server frame (always masked, as RFC 6455 requires of clients). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  const m = nextMask();
  frame.set(maskPool.subarray(m, m + 4), head);
  const body = head + 4;
  for (let i = 0; i < len; i++) frame[body + i] = payload[i]! ^ maskPool[m + (i & 3)]!;
  return frame;
}

/**
 * Mask keys are taken from a pool filled 1,024 keys at a time: one randomBytes call per frame was
 * 2-3% of the loader's CPU at 100k deliveries/s. (The key only has to be unpredictable to
 * intermediaries, which a loopback benchmark has none of; it stays random anyway.)
 */
const maskPool = Buffer.allocUnsafe(4096);
let maskAt = maskPool.length;
function nextMask(): number {
  if (maskAt >= maskPool.length) {
    randomFillSync(maskPool);
    maskAt = 0;
  }
  const at = maskAt;
  maskAt += 4;
  return at;
}

/** A masked text frame. */
export function clientText(text: string): Buffer {
  return clientFrame(OP_TEXT, Buffer.from(text, 'utf8'));
}

/** Receives each complete frame as (opcode, chunk, payload start, payload end). */
export type FrameHandler = (opcode: number, buf: Buffer, start: number, end: number) => void;

/**
 * Splits a stream of server frames. Call {@link push} with every chunk read from the socket; a
 * frame cut by a chunk boundary is copied and completed by the next one, so the chunk may be a
 * read buffer that is reused once push returns. Throws on a masked or absurdly large frame (the
 * caller closes the connection).
 */
export class FrameReader {
  private rest: Buffer | undefined;

  constructor(private readonly onFrame: FrameHandler) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    const n = buf.length;
    while (n - at >= 2) {
      const b1 = buf[at + 1]!;
      if (b1 & 0x80) throw new Error('the server sent a masked frame');
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (n - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (n - at < 10) break;
        const big = buf.readBigUInt64BE(at + 2);
        if (big > 0x7fffffffn) throw new Error('frame too large');
        len = Number(big);
        head = 10;
      }
      if (n - at < head + len) break;
      this.onFrame(buf[at]! & 0x0f, buf, at + head, at + head + len);
      at += head + len;
    }
    if (at < n) this.rest = Buffer.from(buf.subarray(at));
  }
}

/** Splits the HTTP response head from the bytes after it; undefined until the head is complete. */
export function splitResponseHead(buf: Buffer): { head: string; rest: Buffer } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  return { head: buf.toString('latin1', 0, end), rest: buf.subarray(end + 4) };
}

/**
 * Reads the decimal integer starting at `at` in `buf` (up to `end`); -1 when there is no digit.
 * Used to pull the send timestamp out of a delivered frame without decoding it.
 */
export function readUint(buf: Buffer, at: number, end: number): number {
  let v = 0;
  let i = at;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  return i === at ? -1 : v;
}
