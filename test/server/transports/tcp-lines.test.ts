import { describe, expect, it } from 'vitest';
import { LineReader, type LineEvent } from '../../../src/server/transports/tcp-lines.js';

const feed = (reader: LineReader, ...chunks: (string | number[])[]): LineEvent[] =>
  chunks.flatMap((c) => reader.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c)));
const lines = (...texts: string[]): LineEvent[] => texts.map((text) => ({ kind: 'line', text }));

describe('LineReader', () => {
  it('ends a line at LF and drops the CR of a CRLF', () => {
    expect(feed(new LineReader(100), 'a\nb\r\nc\n')).toEqual(lines('a', 'b', 'c'));
  });

  it('keeps a CR that is not right before the LF', () => {
    expect(feed(new LineReader(100), 'a\rb\n')).toEqual(lines('a\rb'));
  });

  it('buffers a partial line until its newline arrives, over any number of chunks', () => {
    const reader = new LineReader(100);
    expect(feed(reader, 'hel')).toEqual([]);
    expect(reader.partial).toBe(true);
    expect(feed(reader, 'lo wo', 'rld\r')).toEqual([]);
    expect(feed(reader, '\nnext\n')).toEqual(lines('hello world', 'next'));
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = [...Buffer.from('zß€😀\n', 'utf8')];
    const reader = new LineReader(100);
    const events = bytes.flatMap((b) => reader.push(Buffer.from([b])));
    expect(events).toEqual(lines('zß€😀'));
  });

  it('replaces invalid UTF-8 with U+FFFD instead of failing, and says the line was not UTF-8', () => {
    expect(feed(new LineReader(100), [0x61, 0xc3, 0x28, 0x62, 0x80, 0xfe, 0x0a])).toEqual([
      { kind: 'line', text: 'a\ufffd(b\ufffd\ufffd', invalidUtf8: true },
    ]);
    // A U+FFFD sent as UTF-8 is text like any other.
    expect(feed(new LineReader(100), 'a\ufffdb\n')).toEqual(lines('a\ufffdb'));
  });

  it('reports a line over the limit once, discards it up to its newline, then reads on', () => {
    const reader = new LineReader(8);
    expect(feed(reader, '0123456789', 'abcdef', 'xyz\nok\n')).toEqual([
      { kind: 'too_long', limit: 8 },
      ...lines('ok'),
    ]);
  });

  it('accepts a line of exactly the limit, with or without its CR', () => {
    expect(feed(new LineReader(4), 'abcd\r\nabcd\n')).toEqual(lines('abcd', 'abcd'));
    expect(feed(new LineReader(4), 'abcde\r\n')).toEqual([{ kind: 'too_long', limit: 4 }]);
  });

  it('drops telnet IAC negotiation, even split across chunks', () => {
    const reader = new LineReader(100);
    // IAC DO ECHO, IAC SB ... IAC SE, IAC IP
    expect(
      feed(
        reader,
        [0xff, 0xfd, 0x01, 0x68],
        [0x69, 0xff, 0xfa, 0x18, 0x01],
        [0xff, 0xf0, 0xff],
        [0xf4, 0x0a],
      ),
    ).toEqual(lines('hi'));
  });

  it('hands over an unfinished last line when the peer stops sending', () => {
    const reader = new LineReader(100);
    expect(feed(reader, 'one\ntwo')).toEqual(lines('one'));
    expect(reader.end()).toEqual(lines('two'));
    expect(reader.end()).toEqual([]);
  });

  it('reads empty lines as empty text', () => {
    expect(feed(new LineReader(10), '\n\r\n')).toEqual(lines('', ''));
  });
});
