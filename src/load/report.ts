import { DEFAULT_MSG_RATE } from './options.js';
import type { LatencySummary, LoadResult, Progress } from './loader.js';
import type { ServerFigures } from './measure.js';

/** Where the server came from, and what was measured of it. */
export interface BenchServer extends ServerFigures {
  url: string;
  /** 'started' when chat bench ran it as a child, 'external' for --url. */
  origin: 'started' | 'external';
  store?: 'memory' | 'sqlite';
  /** Per-connection messages per second the started server allows (0 = no limit). */
  msg_rate?: number;
}

export interface BenchReport extends LoadResult {
  server: BenchServer;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (l: LatencySummary): string => `p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`;
const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k} x${v}`)
    .join(', ');

/** The human summary printed at the end of a run. */
export function formatReport(r: BenchReport): string {
  const s = r.server;
  const lines: [string, string][] = [];
  lines.push([
    'server',
    s.origin === 'started'
      ? `${s.url} (started here, pid ${s.pid}, ${s.store === 'memory' ? 'memory store' : 'SQLite in a temporary directory'}` +
        `${s.msg_rate === undefined || s.msg_rate === DEFAULT_MSG_RATE ? '' : `, --msg-rate ${s.msg_rate === 0 ? '0 (no limit)' : s.msg_rate}`})`
      : s.url,
  ]);
  lines.push([
    'load',
    `${int(r.clients)} clients in ${int(r.rooms)} room(s), ${int(r.publishers)} publisher(s), ${int(r.rate)} msgs/s for ${r.duration_s} s, ${r.size}-char messages`,
  ]);
  lines.push([
    'connections held',
    `${int(r.connections.held)} of ${int(r.clients)} (failed ${r.connections.failed}, disconnected ${r.connections.disconnects}; opened in ${r.connect_s} s)`,
  ]);
  lines.push(['messages sent', int(r.sent)]);
  const pct =
    r.expected_deliveries > 0 ? ` (${((100 * r.deliveries) / r.expected_deliveries).toFixed(1)}%)` : '';
  lines.push([
    'deliveries',
    `${int(r.deliveries)} of ${int(r.expected_deliveries)} expected${pct}, ${int(r.deliveries_per_s)}/s over ${r.window_s} s`,
  ]);
  lines.push(['latency ms', ms(r.latency_ms)]);
  lines.push(['ack latency ms', ms(r.ack_latency_ms)]);
  lines.push([
    'loader delay',
    `event loop late by p99 ${r.loader_delay_ms.p99} ms, max ${r.loader_delay_ms.max} ms (included in the latencies above)`,
  ]);
  lines.push([
    'loader CPU',
    `${r.loader_cpu_percent}% of a core${r.loader_cpu_percent >= 90 ? ' (saturated: latency includes the loader)' : ''}`,
  ]);
  if (s.cpu_us_per_delivery !== undefined) {
    lines.push([
      'server CPU',
      `${s.cpu_us_per_delivery.toFixed(2)} µs per delivery (${((s.cpu_us ?? 0) / 1e6).toFixed(2)} s, ${s.cpu_percent}% of a core; ${s.writes_per_delivery ?? '?'} write syscalls per delivery)`,
    ]);
  }
  if (s.rss_bytes_per_connection !== undefined) {
    const mib = (kib: number | undefined): string => ((kib ?? 0) / 1024).toFixed(1);
    lines.push([
      'server RSS',
      `${mib(s.rss_kib_before)} MiB before, ${mib(s.rss_kib_connected)} MiB connected: ${int(s.rss_bytes_per_connection)} B per connection; ${mib(s.rss_kib_end)} MiB at the end`,
    ]);
  }
  if (s.other_cpu_percent !== undefined) {
    lines.push([
      'other load',
      `${s.other_cpu_percent}% of a core used by other processes during the window${s.other_cpu_percent >= 20 ? ' (latency is inflated)' : ''}`,
    ]);
  }
  lines.push(['errors', r.errors === 0 ? '0' : `${r.errors}: ${counts(r.error_codes)}`]);
  lines.push([
    'disconnects',
    r.connections.disconnects === 0 ? '0' : `${r.connections.disconnects}: ${counts(r.disconnect_reasons)}`,
  ]);
  if (r.connections.failed > 0) lines.push(['connect failures', counts(r.connect_failures)]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  return lines.map(([k, v]) => k.padEnd(width) + v).join('\n') + '\n';
}

/** One progress line for stderr. */
export function formatProgress(p: Progress, clients: number): string {
  return (
    `[${p.elapsedS.toFixed(1).padStart(5)}s] ${p.phase.padEnd(7)} conn ${int(p.connected)}/${int(clients)}` +
    (p.failed ? ` (failed ${p.failed})` : '') +
    `  sent ${int(p.sent)}  deliveries ${int(p.deliveries)} (+${int(p.deliveriesLastS)}/s, p50 ${p.p50Ms} p99 ${p.p99Ms} ms)  errors ${p.errors}  disconnects ${p.disconnects}\n`
  );
}
