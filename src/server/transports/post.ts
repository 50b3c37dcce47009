import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeClientValue } from '../../protocol/codec.js';
import type { ErrorCode, ProtocolError } from '../../protocol/errors.js';
import type { ServerMessage } from '../../protocol/events.js';
import { nickKey } from '../../protocol/nick.js';
import type { ClientMessage } from '../../protocol/schema.js';
import type { CloseReason, Connection } from '../connection.js';
import type { Hub } from '../hub.js';
import { normaliseAddress } from '../limits/admission.js';
import type { KeyedRateLimiters } from '../limits/keyed.js';
import type { Outbound } from '../outbound.js';
import { clusterProtocolError } from '../cluster/errors.js';
import {
  methodNotAllowed,
  pathOf,
  refuseForeignOrigin,
  sendJson,
  type HttpContext,
  type HttpRoute,
} from './http.js';

/**
 * `POST /post {"username","content"[,"room"][,"password"][,"kind":"action"]}` -> 201 with the stored message.
 *
 * The request is a one-shot session (transport `http`): it binds the nick with `hello` (nick
 * rules, collisions and registration apply as for any client), sends with `Hub.postOnce` (no
 * join or leave notice in the room) and waits for the acknowledgement, i.e. the committed
 * message with its seq. Then the session ends quietly and the nick is free again.
 */

/** POST settings. */
export interface PostOptions {
  /** Largest body accepted; a bigger one gets 413. */
  maxBodyBytes?: number;
  /** How long to wait for the hub's answer before giving up with 503. */
  replyTimeoutMs?: number;
  /**
   * The message rate limit, one bucket per client address shared by all its posts (a post is a
   * connection of its own, so the per-connection bucket would start full every time).
   * Absent: no limit.
   */
  rate?: KeyedRateLimiters;
}

/** HTTP status for each error code a post can meet (400 for the rest). */
const STATUS: Partial<Record<ErrorCode | 'payload_too_large', number>> = {
  nick_taken: 409,
  nick_registered: 403,
  no_such_room: 404,
  rate_limited: 429,
  message_refused: 403,
  banned: 403,
  invite_only: 403,
  moderated: 403,
  server_full: 503,
  shutting_down: 503,
  unavailable: 503,
  internal_error: 500,
  frame_too_large: 413,
};

/** The error body: the same stable codes as the WebSocket protocol. */
function errorBody(error: ProtocolError): Record<string, unknown> {
  return {
    error: error.code,
    message: error.message,
    ...(error.retry_after_ms !== undefined ? { retry_after_ms: error.retry_after_ms } : {}),
  };
}

/** A Connection that only collects the replies to its own requests, by ref. */
class OneShotConnection implements Connection {
  readonly transport = 'http' as const;
  private readonly replies = new Map<string | number, ServerMessage>();
  private readonly waiters = new Map<string | number, (m: ServerMessage | undefined) => void>();

  constructor(readonly remoteAddress: string) {}

  send(out: Outbound): number {
    const { ref } = out.message;
    if (ref === undefined) return 0;
    // `join`-style replies may come before the one awaited (`welcome` is the hello reply).
    const waiter = this.waiters.get(ref);
    if (waiter) {
      this.waiters.delete(ref);
      waiter(out.message);
    } else this.replies.set(ref, out.message);
    // Replies wait in memory for the one request; nothing is queued on a socket.
    return 0;
  }

  bufferedBytes(): number {
    return 0;
  }

  drained(_lowWater: number): Promise<void> {
    return Promise.resolve();
  }

  close(_reason: CloseReason): void {
    for (const waiter of this.waiters.values()) waiter(undefined);
    this.waiters.clear();
  }

  /** The reply to `ref`: already received, or the next one; undefined on timeout or close. */
  reply(ref: string, timeoutMs: number): Promise<ServerMessage | undefined> {
    const seen = this.replies.get(ref);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(ref);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(ref, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
}

type Body = { ok: true; bytes: Buffer } | { ok: false; tooLarge: true };

/** Reads the body up to `limit` bytes; stops reading (and says so) past it. */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, tooLarge: true });
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve({ ok: false, tooLarge: true });
        return;
      }
      parts.push(chunk);
    };
    const onEnd = (): void => resolve({ ok: true, bytes: Buffer.concat(parts, size) });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** True for `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Reads `{username, content, room?, password?, kind?}`; an error body otherwise. */
export function parsePostBody(
  text: string,
  defaultRoom: string,
):
  | { ok: true; username: string; content: string; room: string; password?: string; kind?: 'action' }
  | { ok: false; error: ProtocolError } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: {
        code: 'bad_json',
        message: 'the body is not valid JSON; send {"username": "...", "content": "..."}',
      },
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      error: {
        code: 'invalid_payload',
        message: 'the body must be a JSON object {"username": "...", "content": "..."}',
      },
    };
  }
  const body = raw as Record<string, unknown>;
  for (const field of ['username', 'content'] as const) {
    if (body[field] === undefined)
      return { ok: false, error: { code: 'invalid_payload', message: `${field} is required` } };
    if (typeof body[field] !== 'string')
      return { ok: false, error: { code: 'invalid_payload', message: `${field} must be a string` } };
  }
  for (const field of ['room', 'password'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string')
      return { ok: false, error: { code: 'invalid_payload', message: `${field} must be a string` } };
  }
  if (body.kind !== undefined && body.kind !== 'action')
    return { ok: false, error: { code: 'invalid_payload', message: 'kind must be "action" when given' } };
  return {
    ok: true,
    username: body.username as string,
    content: body.content as string,
    room: (body.room as string | undefined) ?? defaultRoom,
    ...(body.password !== undefined ? { password: body.password as string } : {}),
    ...(body.kind === 'action' ? { kind: 'action' as const } : {}),
  };
}

/** Builds the `POST /post` route. */
export function postRoute(hub: Hub, options: PostOptions = {}): HttpRoute {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  /** The last post in line for each nick key. */
  const turns = new Map<string, Promise<void>>();

  function fail(res: ServerResponse, error: ProtocolError, headers: Record<string, string> = {}): void {
    // HTTP clients read Retry-After (whole seconds, rounded up); the body keeps the exact ms.
    if (error.retry_after_ms !== undefined)
      headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retry_after_ms / 1000)));
    sendJson(res, STATUS[error.code] ?? 400, errorBody(error), headers);
  }

  return async (req, res, ctx) => {
    if (pathOf(req) !== '/post') return false;
    await handle(req, res, ctx);
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: HttpContext): Promise<void> {
    if (req.method !== 'POST') {
      return methodNotAllowed(res, 'POST', 'use POST /post with {"username": "...", "content": "..."}');
    }
    // Before anything is read or spent (a password check): a page on another site must not
    // post as its visitor. Browsers send `Origin` on every cross-site POST, and a form or a
    // no-cors fetch cannot send `application/json` without a CORS preflight, which fails here.
    if (refuseForeignOrigin(req, res, ctx)) return;
    if (!isJson(req.headers['content-type'])) {
      return sendJson(res, 415, {
        error: 'unsupported_media_type',
        message: 'send the body as JSON with Content-Type: application/json',
      });
    }
    if (!hub.isAccepting) return fail(res, { code: 'shutting_down', message: 'the server is shutting down' });
    const body = await readBody(req, maxBodyBytes);
    if (!body.ok) {
      // Answer at once and drop the connection rather than read the rest of a huge body.
      sendJson(
        res,
        413,
        { error: 'payload_too_large', message: `the body is larger than ${maxBodyBytes} bytes` },
        { Connection: 'close' },
      );
      res.once('finish', () => req.socket.destroySoon());
      return;
    }
    const parsed = parsePostBody(body.bytes.toString('utf8'), hub.defaultRoom);
    if (!parsed.ok) return fail(res, parsed.error);

    // Validate both requests before any session exists, exactly as WebSocket frames are.
    const password = parsed.password !== undefined ? { password: parsed.password } : {};
    const hello = decodeClientValue({
      type: 'hello',
      payload: { user_name: parsed.username, ...password },
      ref: 'hello',
    });
    if (!hello.ok) return fail(res, hello.error);
    const message = decodeClientValue({
      type: 'message',
      payload: {
        room_id: parsed.room,
        message: parsed.content,
        ...(parsed.kind !== undefined ? { kind: parsed.kind } : {}),
      },
      ref: 'post',
    });
    if (!message.ok) return fail(res, message.error);
    let found;
    try {
      found = await hub.findRoom(parsed.room);
    } catch (err) {
      const cluster = clusterProtocolError(err);
      if (!cluster) throw err;
      return fail(res, cluster);
    }
    if (!found) return fail(res, { code: 'no_such_room', message: `there is no room ${parsed.room}` });

    const address = req.socket.remoteAddress ?? 'unknown';
    // Charged before any work (a password check, a nick's turn): a refused post costs nothing.
    const decision = options.rate?.take(normaliseAddress(address));
    if (decision && !decision.ok) return refuseRate(req, res, decision.retryAfterMs, decision.flooding);

    // Posts under one nick take turns: each holds the nick while it runs, and a script posting
    // in parallel as `ci-bot` must not get 409 from itself.
    const key = nickKey((hello.message.payload as { user_name: string }).user_name);
    const before = turns.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    turns.set(key, tail);
    await before;
    const conn = new OneShotConnection(address);
    const session = hub.connect(conn);
    try {
      hub.dispatch(session, hello.message);
      const welcome = await conn.reply('hello', replyTimeoutMs);
      if (welcome?.type !== 'welcome') return answer(res, welcome);
      hub.postOnce(session, message.message as Extract<ClientMessage, { type: 'message' }>);
      const ack = await conn.reply('post', replyTimeoutMs);
      if (ack?.type !== 'message') return answer(res, ack);
      sendJson(res, 201, ack.payload);
    } finally {
      // Not in any room, so nobody sees it leave; the nick is free again.
      hub.disconnect(session, { code: 'client_closed', message: 'post done' });
      done();
      if (turns.get(key) === tail) turns.delete(key);
    }
  }

  /**
   * 429 with `Retry-After` and the WebSocket error body. A client that keeps posting through its
   * refusals (RateLimiter's flood rule) loses its keep-alive connection too, as a flooding
   * socket client is disconnected.
   */
  function refuseRate(
    req: IncomingMessage,
    res: ServerResponse,
    retryAfterMs: number,
    flooding: boolean,
  ): void {
    const message = flooding
      ? 'sustained flooding; disconnected'
      : `too many posts from your address; retry in ${retryAfterMs} ms`;
    fail(
      res,
      { code: 'rate_limited', message, retry_after_ms: retryAfterMs },
      flooding ? { Connection: 'close' } : {},
    );
    if (flooding) res.once('finish', () => req.socket.destroySoon());
  }

  /** Answers with the hub's error, or 503 when no answer came. */
  function answer(res: ServerResponse, reply: ServerMessage | undefined): void {
    if (reply?.type === 'error') fail(res, reply.payload);
    else sendJson(res, 503, { error: 'internal_error', message: 'the server did not answer in time' });
  }
}
