import * as wsModule from 'ws';
import type { Outbound } from '../outbound.js';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

// ws exports its Sender (the pure framing function) at run time; @types/ws does not declare it.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

const TEXT_FRAME: FrameOptions = { fin: true, opcode: 0x01, mask: false, readOnly: false, rsv1: false };

/** Frames one text message as an unmasked server-to-client WebSocket frame (header + payload). */
export function frameText(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text, 'utf8'), TEXT_FRAME);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

const buildFrame = (out: Outbound): Buffer => frameText(out.text);

/** The event's WebSocket frame, built once per event and shared by every WebSocket recipient. */
export function wsFrameOf(out: Outbound): Buffer {
  // A module-level builder: no closure allocated per recipient.
  return out.render('ws', buildFrame);
}
