import type { Hub } from '../hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { ServerStats } from '../server-stats.js';
import { methodNotAllowed, pathOf, sendJson, type HttpRoute } from './http.js';

/**
 * `GET /stats`: connections by transport, rooms, users, messages (total, per second), uptime;
 * in cluster mode also the node's id and the cluster's nodes, rooms and members.
 */
export function statsRoute(hub: Hub, stats: ServerStats): HttpRoute {
  return async (req, res) => {
    if (pathOf(req) !== '/stats') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      methodNotAllowed(res, 'GET, HEAD', 'use GET /stats');
      return true;
    }
    sendJson(res, 200, await stats.withCluster(hub));
    return true;
  };
}

/** `GET /metrics`: Prometheus text exposition of this server's own registry. */
export function metricsRoute(metrics: ServerMetrics): HttpRoute {
  return async (req, res) => {
    if (pathOf(req) !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      methodNotAllowed(res, 'GET, HEAD', 'use GET /metrics');
      return true;
    }
    const text = await metrics.text();
    res.writeHead(200, {
      'Content-Type': metrics.contentType,
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };
}
