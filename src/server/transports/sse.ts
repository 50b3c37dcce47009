import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatMessage, ServerMessage } from '../../protocol/events.js';
import { ROOM_ID_PATTERN } from '../../protocol/limits.js';
import type { CloseReason, Connection } from '../connection.js';
import type { Hub } from '../hub.js';
import type { Outbound } from '../outbound.js';
import { DrainWaiters } from './drain-waiters.js';
import { pacerOptionsOf, type WritePacing } from './flush-pacer.js';
import { TurnCork } from './turn-cork.js';
import { WriteCoalescer } from './write-coalescer.js';
import {
  methodNotAllowed,
  pathOf,
  refuseForeignOrigin,
  sendJson,
  type HttpContext,
  type HttpRoute,
} from './http.js';

/**
 * `GET /stream[?room=ID]`: a room's messages and notices as Server-Sent Events. The stream is a
 * read-only session (transport `sse`, no nick, not a member: see `Hub.watch`). Every chat
 * message carries `id: <seq>`, so a client that reconnects with `Last-Event-ID` (EventSource
 * does this itself) or `?since=<seq>` gets exactly the messages it missed, from the store.
 */

/** SSE transport settings. */
export interface SseOptions extends WritePacing {
  /** Interval of `: ping` comments that keep proxies and idle timers from closing the stream. */
  heartbeatMs?: number;
  /** The reconnection delay suggested to EventSource clients. */
  retryMs?: number;
}

/** `data:` is the event's protocol JSON (the WebSocket frame's text), so one parser reads both. */
function block(event: string, data: string, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`;
}

function messageBlock(m: ChatMessage): string {
  return block('message', JSON.stringify({ type: 'message', payload: m }), m.seq);
}

/** The SSE text for one event. `history` (a resume replay) becomes one `message` event per message. */
export function renderSse(out: Outbound): string {
  const message: ServerMessage = out.message;
  switch (message.type) {
    case 'message':
      return block('message', out.text, message.payload.seq);
    case 'history': {
      const gap =
        message.payload.recovered === false
          ? block('gap', JSON.stringify({ room_id: message.payload.room_id, recovered: false }))
          : '';
      return gap + message.payload.messages.map(messageBlock).join('');
    }
    case 'error':
      // Not `error`: EventSource fires its own `error` for network failures.
      return block('chat_error', out.text);
    default:
      return block(message.type, out.text);
  }
}

/** The event's SSE block, rendered once per event and shared by every SSE subscriber. */
export function sseBlockOf(out: Outbound): Buffer {
  return out.render('sse', (o) => Buffer.from(renderSse(o), 'utf8'));
}

class SseConnection implements Connection {
  readonly transport = 'sse' as const;
  private closed = false;
  /** Created by the first `drained` call (a stream resuming with Last-Event-ID). */
  private waiters: DrainWaiters | undefined;

  private readonly cork: TurnCork;

  constructor(
    private readonly res: ServerResponse,
    readonly remoteAddress: string,
    coalescer: WriteCoalescer<TurnCork>,
  ) {
    this.cork = new TurnCork(res, coalescer, () => this.waiters?.check());
  }

  send(out: Outbound): void {
    this.write(sseBlockOf(out));
  }

  /** Writes go out corked and are flushed together once this turn's events are queued. */
  write(bytes: Buffer | string): void {
    if (this.closed || this.res.destroyed) return;
    this.cork.write(bytes);
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  drained(lowWater: number): Promise<void> {
    if (this.closed || this.res.destroyed) return Promise.resolve();
    return (this.waiters ??= new DrainWaiters(() => this.bufferedBytes(), this.res)).wait(lowWater);
  }

  close(reason: CloseReason): void {
    this.waiters?.release();
    if (this.closed) return;
    if (reason.code === 'slow_consumer' || reason.code === 'client_closed') {
      this.closed = true;
      this.res.destroy();
      return;
    }
    // A shutdown was announced by its own `shutdown` event already.
    if (reason.code !== 'shutdown') this.write(block('close', JSON.stringify(reason)));
    this.closed = true;
    this.res.end();
  }
}

/** Parses a Last-Event-ID / since value: a non-negative integer, else undefined (live only). */
export function parseSeq(value: string | string[] | null | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === null || !/^\d{1,15}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

/** The SSE door: its route and the heartbeat shared by every stream. */
export class SseTransport {
  private readonly conns = new Set<SseConnection>();
  private readonly timer: NodeJS.Timeout;
  private readonly retryMs: number;
  /** Flushes the corked streams: one write per stream per turn, spaced out under load. */
  private readonly coalescer: WriteCoalescer<TurnCork>;

  constructor(
    private readonly hub: Hub,
    options: SseOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 2000;
    this.coalescer = new WriteCoalescer(pacerOptionsOf(options));
    this.timer = setInterval(() => {
      for (const conn of this.conns) conn.write(': ping\n\n');
    }, options.heartbeatMs ?? 15_000);
    this.timer.unref();
  }

  /** `GET /stream`. */
  readonly route: HttpRoute = (req, res, ctx: HttpContext) => {
    if (pathOf(req) !== '/stream') return false;
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET', 'use GET /stream[?room=ID]');
      return true;
    }
    if (!refuseForeignOrigin(req, res, ctx))
      this.open(req, res).catch((err: unknown) => {
        ctx.log.error({ err }, 'opening an event stream');
        if (!res.headersSent)
          sendJson(res, 500, { error: 'internal_error', message: 'the stream could not start' });
        else res.end();
      });
    return true;
  };

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    let roomId = query.get('room') ?? this.hub.defaultRoom;
    if (!this.hub.isAccepting)
      return sendJson(res, 503, { error: 'shutting_down', message: 'the server is shutting down' });
    if (!ROOM_ID_PATTERN.test(roomId))
      return sendJson(res, 400, {
        error: 'bad_room_id',
        message: 'room ids are 1-64 letters, digits, "_", "-" or "."',
      });
    // Cluster mode: a room another node made gets its actor here.
    const room = await this.hub.findRoom(roomId);
    if (!room) return sendJson(res, 404, { error: 'no_such_room', message: `there is no room ${roomId}` });
    if (req.socket.destroyed) return;
    // `?room=DEV` is #dev: the stream names the room as it is spelt.
    roomId = room.id;
    const since = parseSeq(req.headers['last-event-id']) ?? parseSeq(query.get('since'));
    // The stream's socket was counted against the connection limits when it was accepted.
    const address = req.socket.remoteAddress ?? 'unknown';
    const refused = this.hub.watchRefusal(roomId, address);
    if (refused) return sendJson(res, 403, { error: refused.code, message: refused.message });

    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 60_000);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.write(
      `retry: ${this.retryMs}\n: chat stream of #${roomId}${since !== undefined ? ` from seq ${since}` : ''}\n\n`,
    );

    const conn = new SseConnection(res, address, this.coalescer);
    const session = this.hub.connect(conn);
    this.conns.add(conn);
    res.on('close', () => {
      this.conns.delete(conn);
      this.hub.gone(session);
    });
    this.hub.watchRoom(session, room, since);
  }

  /** Number of open streams. */
  get size(): number {
    return this.conns.size;
  }

  /** Stops the heartbeat; streams are ended by the hub's shutdown. */
  close(): void {
    clearInterval(this.timer);
  }
}
