import { createConnection, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { writeFrames } from '../../../src/server/transports/frame-scratch.js';

/** A connected loopback pair: `server` is the side writeFrames writes to. */
async function pair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => listener.once('connection', r));
  const client = createConnection(port, '127.0.0.1');
  const server = await accepted;
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('writeFrames', () => {
  it('delivers every batch intact when writes stay pending behind a peer that does not read', async () => {
    const { server, client, close } = await pair();
    try {
      client.pause();
      const expected: Buffer[] = [];
      // 400 batches of 40 frames of 1 KiB each (16 MiB): far past the loopback buffers, so most
      // writes stay pending in the stream while later batches are assembled in the scratch.
      for (let b = 0; b < 400; b++) {
        const frames = Array.from({ length: 40 }, (_, f) => Buffer.alloc(1024, (b * 40 + f) % 251));
        expected.push(...frames);
        writeFrames(server, frames, 40 * 1024);
      }
      server.end();
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<void>((r) => client.once('end', r));
      client.resume();
      await ended;
      const got = Buffer.concat(chunks);
      const want = Buffer.concat(expected);
      expect(got.length).toBe(want.length);
      expect(got.equals(want)).toBe(true);
    } finally {
      close();
    }
  });

  it('writes a single frame as it is, without copying', async () => {
    const { server, client, close } = await pair();
    try {
      const frame = Buffer.from('only one');
      const got = new Promise<Buffer>((r) => client.once('data', r));
      writeFrames(server, [frame], frame.length);
      expect(String(await got)).toBe('only one');
    } finally {
      close();
    }
  });
});
