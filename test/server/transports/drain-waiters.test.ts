/**
 * DrainWaiters (the waiting side of Connection.drained) on a real TCP socket pair: a waiter is
 * held while the peer does not read, and released by the socket's own `drain` once it does,
 * with the buffered bytes at or below its mark; closing releases everybody.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { DrainWaiters } from '../../../src/server/transports/drain-waiters.js';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A connected pair: `writer` is the server side, `reader` a client that starts paused. */
async function pair(): Promise<{ writer: Socket; reader: Socket }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer(resolve);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const reader = connect((server!.address() as AddressInfo).port, '127.0.0.1');
  reader.pause();
  const writer = await accepted;
  sockets.push(reader, writer);
  return { writer, reader };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

it('holds a waiter while the peer does not read, and releases it on drain with the buffer under the mark', async () => {
  const { writer, reader } = await pair();
  const waiters = new DrainWaiters(() => writer.writableLength, writer);
  const mark = 64 * 1024;
  // Far more than loopback buffers take from a reader that does not read.
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  for (let i = 0; i < 32; i++) writer.write(chunk);
  let released = false;
  let bufferedAtRelease = -1;
  const waiting = waiters.wait(mark).then(() => {
    released = true;
    bufferedAtRelease = writer.writableLength;
  });
  await nextTurn();
  await nextTurn();
  expect(released).toBe(false);
  expect(writer.writableLength).toBeGreaterThan(mark);
  expect(writer.listenerCount('drain')).toBeGreaterThan(0);

  let read = 0;
  reader.on('data', (d: Buffer) => (read += d.length));
  reader.resume();
  await waiting;
  expect(bufferedAtRelease).toBeLessThanOrEqual(mark);
  console.log(
    `drain waiters: released with ${bufferedAtRelease} bytes buffered (mark ${mark}), ${(read / 1024 / 1024).toFixed(1)} MiB read by then`,
  );
  // The drain listener is gone with the last waiter: an idle connection keeps none.
  expect(writer.listeners('drain')).not.toContain(waiters.check);
});

it('resolves at once under the mark, and release() frees waiters of a connection that closes', async () => {
  const { writer } = await pair();
  const waiters = new DrainWaiters(() => writer.writableLength, writer);
  await waiters.wait(64 * 1024); // nothing buffered
  const chunk = Buffer.alloc(1024 * 1024, 'y');
  for (let i = 0; i < 32; i++) writer.write(chunk);
  let released = false;
  const waiting = waiters.wait(1024).then(() => (released = true));
  await nextTurn();
  expect(released).toBe(false);
  waiters.release();
  writer.destroy();
  await waiting;
  expect(released).toBe(true);
  expect(writer.listeners('drain')).not.toContain(waiters.check);
});
