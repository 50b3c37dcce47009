/**
 * Splits the bytes of a TCP line connection into lines. Pure (no socket), fed literal bytes in
 * its tests:
 * - a line ends at LF; one CR before it is dropped, so CRLF (telnet) and LF (nc) both work;
 * - a line may arrive in any number of chunks, and a multi-byte character may straddle them;
 * - bytes are decoded as UTF-8 only once the line is whole; invalid sequences become U+FFFD;
 * - a line longer than the limit is reported once (`too_long`) and discarded up to its LF;
 * - telnet IAC command sequences (0xFF ...) are dropped: 0xFF never occurs in UTF-8 text.
 */

import { isUtf8 } from 'node:buffer';

/**
 * What one chunk of input produced, in order. `invalidUtf8`: the line's bytes were not UTF-8
 * (its text has U+FFFD in their place), for a door that must refuse such lines (IRC's UTF8ONLY).
 */
export type LineEvent =
  { kind: 'line'; text: string; invalidUtf8?: true } | { kind: 'too_long'; limit: number };

const LF = 0x0a;
const CR = 0x0d;
const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;

type TelnetState = 'data' | 'iac' | 'option' | 'sub' | 'sub_iac';

export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private telnet: TelnetState = 'data';
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  /** @param maxLineBytes longest line accepted, in bytes, without its line ending */
  constructor(readonly maxLineBytes: number) {}

  /** Feeds one chunk; returns the lines it completed and any over-long line reports. */
  push(chunk: Buffer): LineEvent[] {
    const data = this.telnet !== 'data' || chunk.includes(IAC) ? this.stripTelnet(chunk) : chunk;
    const events: LineEvent[] = [];
    let start = 0;
    while (start <= data.length) {
      const lf = data.indexOf(LF, start);
      const end = lf === -1 ? data.length : lf;
      if (!this.discarding && end > start) {
        // A line of exactly the limit may still be followed by its CR.
        if (this.size + (end - start) > this.maxLineBytes + 1) {
          events.push({ kind: 'too_long', limit: this.maxLineBytes });
          this.discarding = true;
          this.parts = [];
          this.size = 0;
        } else {
          this.parts.push(data.subarray(start, end));
          this.size += end - start;
        }
      }
      if (lf === -1) break;
      if (this.discarding) this.discarding = false;
      else events.push(this.finishLine());
      start = lf + 1;
    }
    return events;
  }

  /** The peer stopped sending: a buffered unfinished line counts as a last line. */
  end(): LineEvent[] {
    const events: LineEvent[] = [];
    if (this.size > 0 && !this.discarding) events.push(this.finishLine());
    this.parts = [];
    this.size = 0;
    this.discarding = false;
    return events;
  }

  /** True while an unfinished line is buffered. */
  get partial(): boolean {
    return this.size > 0;
  }

  private finishLine(): LineEvent {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.maxLineBytes) return { kind: 'too_long', limit: this.maxLineBytes };
    const text = this.decoder.decode(bytes);
    // Only a line that decoded to a replacement character can have held invalid bytes.
    return text.includes('\uFFFD') && !isUtf8(bytes)
      ? { kind: 'line', text, invalidUtf8: true }
      : { kind: 'line', text };
  }

  /** Drops telnet commands: IAC x, IAC WILL/WONT/DO/DONT opt, IAC SB ... IAC SE. */
  private stripTelnet(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const byte of chunk) {
      switch (this.telnet) {
        case 'data':
          if (byte === IAC) this.telnet = 'iac';
          else out[n++] = byte;
          break;
        case 'iac':
          // IAC IAC is a literal 0xFF byte; it is not UTF-8, so it is dropped too.
          this.telnet = byte >= 0xfb && byte <= 0xfe ? 'option' : byte === SB ? 'sub' : 'data';
          break;
        case 'option':
          this.telnet = 'data';
          break;
        case 'sub':
          if (byte === IAC) this.telnet = 'sub_iac';
          break;
        case 'sub_iac':
          this.telnet = byte === SE ? 'data' : 'sub';
          break;
      }
    }
    return out.subarray(0, n);
  }
}
