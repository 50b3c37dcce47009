import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { ServerStats } from './server-stats.js';

/**
 * Logs one stats line at info level every `intervalMs` (5 s by default), e.g.
 * `{"msg":"stats","connections":{"ws":3,"tcp":1,...,"total":5},"rooms":2,"users":4,"msgs_per_s":12.5,...}`.
 * Returns a function that stops it. The timer never keeps the process alive, and a tick never
 * throws: reading the resident set size opens /proc/self/stat, which fails with EMFILE when
 * descriptors run out, exactly when the line matters (`rss_mb` is null then).
 */
export function startMonitor(log: Logger, hub: Hub, stats: ServerStats, intervalMs = 5000): () => void {
  let rssFailed = false;
  const timer = setInterval(() => {
    try {
      const s = stats.snapshot(hub);
      let rssMb: number | null = null;
      try {
        rssMb = Math.round(process.memoryUsage.rss() / 1048576);
        rssFailed = false;
      } catch (err) {
        // Said once per failing stretch, not every tick.
        if (!rssFailed) log.warn({ err }, 'cannot read the resident set size');
        rssFailed = true;
      }
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
          rss_mb: rssMb,
        },
        'stats',
      );
      stats.resetLag();
    } catch (err) {
      log.error({ err }, 'stats monitor tick failed');
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
