import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CloseReason, Connection } from '../connection.js';
import type { Hub } from '../hub.js';
import type { Outbound } from '../outbound.js';
import type { Session } from '../session.js';
import { forceCloseAfterGrace } from './close-grace.js';
import { writeFrames } from './frame-scratch.js';
import { DrainWaiters } from './drain-waiters.js';
import { wsFrameOf } from './ws-frame.js';
import { pacerOptionsOf, type WritePacing } from './flush-pacer.js';
import { WriteCoalescer, type FirstStepResult } from './write-coalescer.js';

/** WebSocket transport settings. */
export interface WsTransportOptions extends WritePacing {
  /** Largest incoming frame; bigger ones close the connection with 1009. */
  maxPayload?: number;
  /** permessage-deflate; off by default because it costs memory per idle connection. */
  compression?: boolean;
  /** Interval of protocol pings; a client that has not answered the previous one is dropped. */
  pingIntervalMs?: number;
  /** Decides whether an upgrade may proceed; returns a refusal (HTTP status + text) or undefined. */
  admit?(req: IncomingMessage): { status: number; message: string } | undefined;
  /** Called when a session is created/ended, for per-IP accounting. */
  onOpen?(session: Session, req: IncomingMessage): void;
  onClose?(session: Session): void;
}

/** Close codes the server uses, per reason (4000-4999 are application codes). */
const CLOSE_CODES: Record<string, number> = {
  quit: 1000,
  shutdown: 1001,
  // Cluster mode: Redis lost its data (1012: service restart; come back and rejoin).
  history_replaced: 1012,
  // Cluster mode: this node was reaped after a pause or cut-off; reconnect (to any node) and resume.
  node_lapsed: 1012,
  slow_consumer: 4008,
  rate_limited: 4029,
  identify_timeout: 4001,
  idle: 4002,
};

class WsConnection implements Connection {
  readonly transport = 'ws' as const;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  /**
   * What the socket still held after the last flush (its writableLength then). It only falls
   * until the next flush (ws's own pings and close frames aside, a few bytes), so queuedBytes +
   * backlog bounds bufferedBytes() without asking the stream on every delivery.
   */
  private backlog = 0;
  /** Created by the first `drained` call: most connections never wait. */
  private waiters: DrainWaiters | undefined;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    readonly remoteAddress: string,
    private readonly compression: boolean,
    /** Flushes the connections that queued frames: one write per socket per turn (or interval). */
    private readonly coalescer: WriteCoalescer<WsConnection>,
  ) {}

  send(out: Outbound): number {
    if (this.ws.readyState !== 1) return 0;
    if (this.compression) {
      // ws must own framing when it compresses; no shared frame then. Its write callback is the
      // only sign that deflated bytes left its own queue (bufferedAmount).
      this.ws.send(out.text, () => this.waiters?.check());
      return this.bufferedBytes();
    }
    const frame = wsFrameOf(out);
    // Marked exactly when the queue becomes non-empty: one Set insert per socket per flush, not per event.
    if (this.queue.push(frame) === 1) this.coalescer.mark(this);
    return (this.queuedBytes += frame.length) + this.backlog;
  }

  /**
   * Writes the queued frames as one buffer in one write. Frames go straight to the socket: with
   * compression off ws's own sender writes synchronously too, so the order with its pings and
   * close frames is kept. (Copying a few small frames into one buffer is cheaper than a corked
   * writev: the stream keeps no per-chunk request objects and libuv gets one buffer.)
   */
  flush(): void {
    const frames = this.queue;
    if (frames.length === 0) return;
    const bytes = this.queuedBytes;
    this.queuedBytes = 0;
    // The frames are copied (or handed to the stream) synchronously: the array is reused, not
    // replaced, so a write allocates no queue.
    const open = this.ws.readyState === 1 && !this.socket.destroyed;
    if (open) writeFrames(this.socket, frames, bytes);
    frames.length = 0;
    this.backlog = this.socket.writableLength;
    if (open) this.waiters?.check();
  }

  bufferedBytes(): number {
    return this.queuedBytes + this.socket.writableLength + (this.compression ? this.ws.bufferedAmount : 0);
  }

  drained(lowWater: number): Promise<void> {
    if (this.ws.readyState !== 1 || this.socket.destroyed) return Promise.resolve();
    return (this.waiters ??= new DrainWaiters(() => this.bufferedBytes(), this.socket)).wait(lowWater);
  }

  close(reason: CloseReason): void {
    this.coalescer.forget(this);
    this.flush();
    this.waiters?.release();
    const code = CLOSE_CODES[reason.code] ?? 4000;
    // A close frame carries at most 123 bytes of reason; a quit's reason is the user's own text,
    // so it is cut by bytes, at a character boundary (ws throws on a longer one).
    const text = fitBytes(`${reason.code}: ${reason.message}`, 123);
    if (reason.code === 'slow_consumer') {
      // Its socket is backed up; a close frame would wait behind everything queued.
      this.ws.terminate();
      return;
    }
    try {
      this.ws.close(code, text);
    } catch {
      this.ws.terminate();
    }
    // A peer that never answers the close frame is cut; one that does needs no timer.
    forceCloseAfterGrace(this.ws, () => this.ws.terminate());
  }
}

/** The WebSocket door: upgrades on `/ws` and `/` become hub sessions. */
export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly coalescer: WriteCoalescer<WsConnection>;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly conns = new Map<WebSocket, { conn: WsConnection; session: Session }>();

  constructor(
    private readonly hub: Hub,
    private readonly options: WsTransportOptions = {},
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? 64 * 1024,
      perMessageDeflate: options.compression ?? false,
      clientTracking: false,
    });
    this.coalescer = new WriteCoalescer(pacerOptionsOf(options));
    this.pingTimer = setInterval(() => this.heartbeat(), options.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
  }

  /** Handles an HTTP upgrade request from the shared HTTP server. */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws' && path !== '/') return refuse(socket, 404, 'WebSocket endpoint is /ws');
    if (!this.hub.isAccepting) return refuse(socket, 503, 'server is shutting down');
    const refusal = this.options.admit?.(req);
    if (refusal) return refuse(socket, refusal.status, refusal.message);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, req));
  }

  private accept(ws: WebSocket, socket: Socket, req: IncomingMessage): void {
    const conn = new WsConnection(
      ws,
      socket,
      req.socket.remoteAddress ?? 'unknown',
      this.options.compression ?? false,
      this.coalescer,
    );
    const session = this.hub.connect(conn);
    this.conns.set(ws, { conn, session });
    this.options.onOpen?.(session, req);
    ws.on('message', (data, isBinary) => {
      if (ws.readyState !== ws.OPEN) return;
      // Text and binary frames are both read as UTF-8 JSON text. ws refuses invalid UTF-8 in a
      // text frame itself (close 1007); a binary frame is held to the same rule here rather than
      // decoded with U+FFFD in place of the bad bytes.
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      if (isBinary && !isUtf8(bytes)) {
        ws.close(1007, 'invalid UTF-8 in a binary frame');
        forceCloseAfterGrace(ws, () => ws.terminate());
        return;
      }
      this.hub.receive(session, bytes.toString('utf8'));
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', () => {
      // ws reports protocol violations (bad frames, oversize payloads) here before closing; the
      // close handler below cleans up. Nothing to do but keep the process alive.
    });
    ws.on('close', () => {
      this.conns.delete(ws);
      if (this.conns.size === 0) this.emptied?.();
      this.hub.gone(session);
      this.options.onClose?.(session);
    });
  }

  private heartbeat(): void {
    for (const [ws, { conn }] of this.conns) {
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }

  private emptied: (() => void) | undefined;

  /** Resolves when every WebSocket has closed, or after `timeoutMs`, whichever is first. */
  whenEmpty(timeoutMs: number): Promise<void> {
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.emptied = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Makes `first` the first step of every flush of this door (the store's commit), so what it
   * releases is written in that flush; returns the function that asks for a flush when `first`
   * has work. The WebSocket door leads because it is always open and carries the big rooms;
   * the other doors write what a commit released in their own next flush. One lead per door: the
   * SQLite store's commits, or a cluster node's commit rounds and channel deliveries (RedisEngine.timeWith).
   */
  leadFlushesWith(first: (step: number) => FirstStepResult): () => void {
    this.coalescer.lead(first);
    return () => this.coalescer.wake();
  }

  /** Number of open WebSocket connections. */
  get size(): number {
    return this.conns.size;
  }

  /** Stops the heartbeat; sockets are closed by the hub's shutdown. */
  close(): void {
    clearInterval(this.pingTimer);
    for (const ws of this.conns.keys()) ws.terminate();
    this.wss.close();
  }
}

function refuse(socket: Socket, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : status === 429 ? 'Too Many Requests' : 'Service Unavailable'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** `text` cut to at most `max` UTF-8 bytes without splitting a character. */
export function fitBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}
