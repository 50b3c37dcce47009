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
 * message carries `id: <seq>@<epoch>` (the room's epoch, as `joined.epoch`), so a client that
 * reconnects with `Last-Event-ID` (EventSource does this itself) or `?since=<seq>` gets exactly
 * the messages it missed, from the store; one whose epoch names another history of the room (it
 * was made again since) gets a `gap` event instead of other messages under the numbers it had.
 */

/** SSE transport settings. */
export interface SseOptions extends WritePacing {
  /** Interval of `: ping` comments that keep proxies and idle timers from closing the stream. */
  heartbeatMs?: number;
  /** The reconnection delay suggested to EventSource clients. */
  retryMs?: number;
}

/** `data:` is the event's protocol JSON (the WebSocket frame's text), so one parser reads both. */
function block(event: string, data: string, id?: string): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`;
}

/** A message's event id: its seq, and the epoch of the room's history it counts in. */
function idOf(seq: number, epoch: string): string {
  return `${seq}@${epoch}`;
}

function messageBlock(m: ChatMessage, epoch: string): string {
  return block('message', JSON.stringify({ type: 'message', payload: m }), idOf(m.seq, epoch));
}

/** The `gap` event: what the client held cannot be resumed (retention, or another history). */
function gapBlock(roomId: string): string {
  return block('gap', JSON.stringify({ room_id: roomId, recovered: false }));
}

/**
 * The SSE text for one event; `epoch` is the watched room's (every SSE recipient of an event
 * watches the room it came from). `history` (a resume replay) becomes one `message` event per message.
 */
export function renderSse(out: Outbound, epoch: string): string {
  const message: ServerMessage = out.message;
  switch (message.type) {
    case 'message':
      return block('message', out.text, idOf(message.payload.seq, epoch));
    case 'history': {
      const gap = message.payload.recovered === false ? gapBlock(message.payload.room_id) : '';
      return gap + message.payload.messages.map((m) => messageBlock(m, epoch)).join('');
    }
    case 'error':
      // Not `error`: EventSource fires its own `error` for network failures.
      return block('chat_error', out.text);
    default:
      return block(message.type, out.text);
  }
}

/** The event's SSE block, rendered once per event and shared by every SSE subscriber. */
export function sseBlockOf(out: Outbound, epoch: string): Buffer {
  return out.render('sse', (o) => Buffer.from(renderSse(o, epoch), 'utf8'));
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
    /** The epoch of the watched room's history, for the messages' ids. */
    private readonly epoch: string,
  ) {
    this.cork = new TurnCork(res, coalescer, () => this.waiters?.check());
  }

  send(out: Outbound): number {
    this.write(sseBlockOf(out, this.epoch));
    return this.bufferedBytes();
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

/**
 * Parses a Last-Event-ID / since value: `<seq>` or `<seq>@<epoch>` (a message's event id), seq a
 * non-negative integer; else undefined (live only).
 */
export function parseEventId(
  value: string | string[] | null | undefined,
): { seq: number; epoch?: string } | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const match =
    text === undefined || text === null ? null : /^(\d{1,15})(?:@([0-9a-z]{1,16}))?$/.exec(text.trim());
  if (!match) return undefined;
  return match[2] === undefined ? { seq: Number(match[1]) } : { seq: Number(match[1]), epoch: match[2] };
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
    const resume = parseEventId(req.headers['last-event-id']) ?? parseEventId(query.get('since'));
    // An id from another history of the room (made again since it was seen): its numbers mean
    // other messages here, so the stream says `gap` and goes on live instead of replaying.
    const otherHistory = room.otherHistory(resume?.epoch);
    const since = otherHistory ? undefined : resume?.seq;
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
    if (otherHistory) res.write(gapBlock(roomId));

    const conn = new SseConnection(res, address, this.coalescer, room.epoch);
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
