import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../hub.js';
import type { OriginPolicy } from '../limits/origin.js';
import type { Logger } from '../log.js';

/** What every HTTP route may use. */
export interface HttpContext {
  hub: Hub;
  log: Logger;
  /** False while shutting down (health turns 503). */
  serving(): boolean;
  startedAt: number;
  /** Which browser origins may use the doors (see limits/origin.ts). */
  origins: OriginPolicy;
}

/**
 * One HTTP route: returns true when it handled the request. Routes are tried in order; the
 * first to claim a request owns the response.
 */
export type HttpRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HttpContext,
) => boolean | Promise<boolean>;

/** Sends a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** 405 with `Allow` and a JSON error that says how the route is used. */
export function methodNotAllowed(res: ServerResponse, allow: string, usage: string): void {
  sendJson(res, 405, { error: 'method_not_allowed', message: usage }, { Allow: allow });
}

/** 403 for a browser request from a foreign origin; true when it answered. */
export function refuseForeignOrigin(req: IncomingMessage, res: ServerResponse, ctx: HttpContext): boolean {
  if (ctx.origins.allows(req)) return false;
  sendJson(res, 403, {
    error: 'forbidden_origin',
    message: `origin ${String(req.headers.origin).slice(0, 100)} is not allowed; see --allow-origin and --public-url`,
  });
  return true;
}

/** The request path without its query string. */
export function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

/**
 * `GET /health`: 200 while serving, 503 while shutting down. A cluster node also says its node id
 * and Redis link, and answers 503 `redis_down` while it cannot reach Redis (it keeps its
 * connections, but cannot store or deliver anything new: a load balancer should send newcomers
 * to a node that can).
 */
export const healthRoute: HttpRoute = (req, res, ctx) => {
  if (pathOf(req) !== '/health') return false;
  const serving = ctx.serving();
  const cluster = ctx.hub.cluster;
  const redisDown = cluster?.redis === 'down';
  sendJson(res, serving && !redisDown ? 200 : 503, {
    status: !serving ? 'shutting_down' : redisDown ? 'redis_down' : 'ok',
    uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
    ...(cluster ? { node: cluster.nodeId, redis: cluster.redis } : {}),
  });
  return true;
};

/** Builds the request listener that runs the routes, answering 404 for anything unclaimed. */
export function createHttpHandler(
  routes: HttpRoute[],
  ctx: HttpContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      try {
        for (const route of routes) if (await route(req, res, ctx)) return;
        sendJson(res, 404, { error: 'not_found', message: `no route for ${req.method} ${pathOf(req)}` });
      } catch (err) {
        ctx.log.error({ err, url: req.url }, 'http route failed');
        if (!res.headersSent)
          sendJson(res, 500, { error: 'internal_error', message: 'the server failed to handle the request' });
        else res.destroy();
      }
    })();
  };
}
