import type { Socket } from 'node:net';

/** Writes up to this size are assembled in the shared scratch buffer; larger ones get their own. */
const SCRATCH_BYTES = 64 * 1024;

let scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

/**
 * Writes `frames` (`bytes` in all) to a plain TCP socket as one buffer, assembled in one scratch
 * buffer shared by every connection instead of a fresh `Buffer.concat` per write: at everyday
 * fan-out that copy was the one allocation per write that outlived the turn's JS objects (8 KiB
 * pool slabs of external memory, which drive V8's mark-compacts). Safe because a loopback or LAN
 * write of a few KiB usually completes inside `write()`; when it does not, the stream or libuv
 * still points into the scratch, so this write keeps it and the next one gets a new scratch.
 * TLS sockets copy into their own buffers at a different time, so they never use the scratch.
 */
export function writeFrames(socket: Socket, frames: readonly Buffer[], bytes: number): void {
  if (frames.length === 1) {
    socket.write(frames[0]!);
    return;
  }
  if (bytes > SCRATCH_BYTES || (socket as { encrypted?: boolean }).encrypted === true) {
    socket.write(Buffer.concat(frames as Buffer[], bytes));
    return;
  }
  const pending = socket.writableLength;
  let offset = 0;
  for (const frame of frames) {
    scratch.set(frame, offset);
    offset += frame.length;
  }
  socket.write(scratch.subarray(0, bytes));
  // Anything still buffered after the write may be (part of) the scratch: leave it to them.
  if (pending > 0 || socket.writableLength > 0) scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
}
