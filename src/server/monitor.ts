import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { ServerStats } from './stats.js';

/**
 * Logs one stats line at info level every `intervalMs` (5 s by default), e.g.
 * `{"msg":"stats","connections":{"ws":3,"tcp":1,...,"total":5},"rooms":2,"users":4,"msgs_per_s":12.5,...}`.
 * Returns a function that stops it. The timer never keeps the process alive.
 */
export function startMonitor(log: Logger, hub: Hub, stats: ServerStats, intervalMs = 5000): () => void {
  const timer = setInterval(() => {
    const s = stats.snapshot(hub);
    log.info(
      {
        connections: s.connections,
        rooms: s.rooms,
        users: s.users,
        msgs_total: s.messages.total,
        msgs_per_s: s.messages.per_second,
        deliveries: s.messages.deliveries,
        slow_consumers: s.slow_consumers_disconnected,
        lag_p99_ms: s.event_loop_lag_ms.p99,
        lag_max_ms: s.event_loop_lag_ms.max,
        rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
      },
      'stats',
    );
    stats.resetLag();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
