import { describe, expect, it } from 'vitest';
import { readStamp, stampedText } from '../../src/load/connector.js';
import { clientText, FrameReader, readUint } from '../../src/load/frames.js';
import { Histogram } from '../../src/load/histogram.js';
import { isLoopbackHost, parseBenchOptions, sourceAddresses } from '../../src/load/options.js';

/** An unmasked server frame, as ws's Sender.frame builds it. */
function serverFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, len]) : Buffer.from([0x81, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

function readAll(chunks: Buffer[]): string[] {
  const got: string[] = [];
  const reader = new FrameReader((op, buf, start, end) =>
    got.push(`${op}:${buf.toString('utf8', start, end)}`),
  );
  for (const c of chunks) reader.push(c);
  return got;
}

describe('FrameReader', () => {
  const a = serverFrame('{"type":"message"}');
  const b = serverFrame('x'.repeat(300));
  const both = Buffer.concat([a, b]);
  it.each([
    ['one chunk with two frames', [both]],
    ['a frame split inside its header', [both.subarray(0, a.length + 1), both.subarray(a.length + 1)]],
    [
      'a frame split inside its payload',
      [both.subarray(0, 10), both.subarray(10, a.length + 50), both.subarray(a.length + 50)],
    ],
    ['one byte at a time', [...both].map((byte) => Buffer.from([byte]))],
  ])('reads %s', (_name, chunks) => {
    expect(readAll(chunks)).toEqual(['1:{"type":"message"}', `1:${'x'.repeat(300)}`]);
  });

  it('completes a cut frame when every chunk arrives in one reused read buffer', () => {
    const got: string[] = [];
    const reader = new FrameReader((_op, buf, start, end) => got.push(buf.toString('utf8', start, end)));
    const shared = Buffer.alloc(both.length);
    for (const [from, to] of [
      [0, 10],
      [10, a.length + 50],
      [a.length + 50, both.length],
    ] as const) {
      both.copy(shared, 0, from, to);
      reader.push(shared.subarray(0, to - from));
      shared.fill(0x21); // the next read overwrites it
    }
    expect(got).toEqual(['{"type":"message"}', 'x'.repeat(300)]);
  });

  it('refuses a masked frame from the server', () => {
    expect(() => readAll([clientText('hi')])).toThrow(/masked/);
  });
});

describe('stamps', () => {
  it('pads the text to the size and reads the send time back, from text or bytes', () => {
    const text = stampedText(123456789, 100, 42);
    expect(text).toHaveLength(100);
    expect(readStamp(text)).toEqual({ sent: 123456789, publisherId: 42 });
    const buf = Buffer.from(`{"message":"${text}"}`);
    expect(readUint(buf, buf.indexOf('#t=') + 3, buf.length)).toBe(123456789);
    expect(readStamp('hello').sent).toBe(-1);
  });
});

describe('Histogram', () => {
  it('reports percentiles within 0.1%', () => {
    const h = new Histogram();
    for (let us = 1; us <= 100_000; us++) h.record(us);
    expect(h.count).toBe(100_000);
    expect(h.max).toBe(100_000);
    expect(h.percentile(50) / 50_000).toBeCloseTo(1, 2);
    expect(h.percentile(99) / 99_000).toBeCloseTo(1, 2);
    expect(h.percentile(100)).toBe(100_000);
  });

  it('is exact below 2 ms and empty when reset', () => {
    const h = new Histogram();
    [5, 7, 1999].forEach((v) => h.record(v));
    expect([h.percentile(0), h.percentile(50), h.percentile(100)]).toEqual([5, 7, 1999]);
    h.reset();
    expect([h.count, h.percentile(99)]).toEqual([0, 0]);
  });
});

describe('options', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.3.4.5', true],
    ['localhost', true],
    ['[::1]', true],
    ['10.0.0.1', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('picks enough publishers to stay under the per-connection limit unless told', () => {
    expect(parseBenchOptions({ clients: 1000, rate: 1000 }).publishers).toBe(250);
    expect(parseBenchOptions({ clients: 10, rate: 1000 }).publishers).toBe(10);
    expect(parseBenchOptions({ clients: 1000, rate: 1000, publishers: 1 }).publishers).toBe(1);
  });

  it('passes a non-default --msg-rate to the server it starts and sizes the publishers to it', () => {
    const o = parseBenchOptions({ clients: 100, rooms: 100, rate: 5000, msgRate: 100 });
    expect(o.publishers).toBe(63); // 5000 / (0.8 x 100), so each sends 80 msgs/s
    expect(o.serveArgs).toEqual(['--msg-rate', '100']);
    expect(parseBenchOptions({ clients: 1000, rate: 1000, msgRate: 5 }).serveArgs).toEqual([]);
    expect(parseBenchOptions({ clients: 300, rooms: 100, rate: 5000, msgRate: 0 }).publishers).toBe(100);
  });

  it.each([
    [{ clients: 0 }, /--clients/],
    [{ clients: 10, rooms: 11 }, /--rooms/],
    [{ duration: 0 }, /--duration/],
    [{ url: 'ws://192.168.1.2:8080/ws' }, /only loads this machine/],
    [{ url: 'wss://127.0.0.1/ws' }, /ws:\/\//],
    [{ msgRate: -1 }, /--msg-rate/],
  ])('refuses %j', (flags, message) => {
    expect(() => parseBenchOptions(flags)).toThrow(message);
  });

  it('spreads more than 20,000 connections over several loopback source addresses', () => {
    expect(sourceAddresses('127.0.0.1', 1000)).toEqual([]);
    expect(sourceAddresses('127.0.0.1', 50_000)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  });
});
