import { runLoad, type LoadOptions, type LoadResult } from './loader.js';
import { cpuMicros, machineBusyMicros, rssKiB, writeSyscalls } from './proc.js';

/** What a run measured of the server process, when its pid is known. */
export interface ServerFigures {
  pid?: number;
  /** Server CPU (user + system) from the start of publishing to the end of the drain, µs. */
  cpu_us?: number;
  cpu_us_per_delivery?: number;
  /** Write syscalls over the same window per delivery (under 1: writes carry several events). */
  writes_per_delivery?: number;
  /** That CPU time over the wall time, percent of one core. */
  cpu_percent?: number;
  /** RSS before the clients connected, once they had all joined, and at the end. */
  rss_kib_before?: number;
  rss_kib_connected?: number;
  rss_kib_end?: number;
  /** (connected - before) / connections held. */
  rss_bytes_per_connection?: number;
  /**
   * CPU used on the machine by everything but the server and this loader over the same window,
   * percent of one core: other work competing for the cores (it inflates latency, not CPU/delivery).
   */
  other_cpu_percent?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a load and reads the server's CPU and memory from /proc around it: RSS before connecting,
 * once everyone joined (after `settleMs` more, so lazily freed memory is not counted), and CPU over
 * the publish window.
 */
export async function measureLoad(
  load: LoadOptions,
  pid: number | undefined,
  settleMs = 1000,
): Promise<{ result: LoadResult; server: ServerFigures }> {
  const server: ServerFigures = pid ? { pid } : {};
  if (pid) server.rss_kib_before = rssKiB(pid);
  let cpu0 = 0;
  let wall0 = 0;
  let busy0 = 0;
  let writes0 = 0;
  let writes = 0;
  let self0 = process.cpuUsage();
  const result = await runLoad({
    ...load,
    onReady: async () => {
      await load.onReady?.();
      if (!pid) return;
      await sleep(settleMs);
      server.rss_kib_connected = rssKiB(pid);
      cpu0 = cpuMicros(pid) ?? 0;
      writes0 = writeSyscalls(pid) ?? 0;
      busy0 = machineBusyMicros() ?? 0;
      self0 = process.cpuUsage();
      wall0 = performance.now();
    },
    onDone: async () => {
      if (pid) {
        const wallUs = (performance.now() - wall0) * 1000;
        const cpu = (cpuMicros(pid) ?? 0) - cpu0;
        writes = (writeSyscalls(pid) ?? 0) - writes0;
        const self = process.cpuUsage(self0);
        const busy = (machineBusyMicros() ?? 0) - busy0;
        server.cpu_us = cpu;
        server.cpu_percent = wallUs > 0 ? Math.round((cpu / wallUs) * 100) : 0;
        server.other_cpu_percent =
          wallUs > 0 ? Math.max(0, Math.round(((busy - cpu - self.user - self.system) / wallUs) * 100)) : 0;
        server.rss_kib_end = rssKiB(pid);
      }
      await load.onDone?.();
    },
  });
  if (pid) {
    const { rss_kib_before: before, rss_kib_connected: connected } = server;
    if (before !== undefined && connected !== undefined && result.connections.held > 0) {
      server.rss_bytes_per_connection = Math.round(((connected - before) * 1024) / result.connections.held);
    }
    if (server.cpu_us !== undefined && result.deliveries > 0) {
      server.cpu_us_per_delivery = Math.round((server.cpu_us / result.deliveries) * 1000) / 1000;
      server.writes_per_delivery = Math.round((writes / result.deliveries) * 1000) / 1000;
    }
  }
  return { result, server };
}
