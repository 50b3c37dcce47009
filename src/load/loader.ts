import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchClient, ClientEvents, Connector } from './connector.js';
import { nowUs, stampedText } from './connector.js';
import { Histogram } from './histogram.js';

/** One load run: how many clients, where, and what they publish. */
export interface LoadOptions {
  connector: Connector;
  /** Connections to open; client i joins room i % rooms. */
  clients: number;
  rooms: number;
  /** Clients 0..publishers-1 publish (so publishers spread over the rooms); they are members too. */
  publishers: number;
  /** Messages per second offered, in total across publishers; 0 only connects. */
  rate: number;
  durationS: number;
  /** Characters per message text (the send stamp included). */
  size: number;
  /** Source addresses to spread the connections over (loopback only needs more above ~28k). */
  localAddresses?: string[];
  /** Handshakes in flight at once. */
  connectConcurrency?: number;
  joinTimeoutMs?: number;
  /** Prefix of room ids and nicks; unique per run so runs never see each other's messages. */
  runId?: string;
  /** Longest wait, after publishing stops, for the last deliveries. */
  drainTimeoutMs?: number;
  /** Once a second, for a progress line. */
  onProgress?(progress: Progress): void;
  /** Everyone is connected and the join chatter has stopped; publishing starts after it returns. */
  onReady?(): void | Promise<void>;
  /** Publishing and draining are over; the connections are closed after it returns. */
  onDone?(): void | Promise<void>;
}

export interface Progress {
  phase: 'connect' | 'settle' | 'publish' | 'drain';
  elapsedS: number;
  connected: number;
  failed: number;
  sent: number;
  deliveries: number;
  /** Deliveries in the last second, and their latency. */
  deliveriesLastS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  disconnects: number;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  clients: number;
  rooms: number;
  publishers: number;
  rate: number;
  duration_s: number;
  size: number;
  connections: { held: number; failed: number; disconnects: number };
  /** Time to open and join every connection. */
  connect_s: number;
  sent: number;
  /** Sum over the messages sent of their room's member count (publisher included). */
  expected_deliveries: number;
  deliveries: number;
  deliveries_per_s: number;
  /** From the first send to the last delivery (or the drain timeout). */
  window_s: number;
  /** Send to arrival, at every member. */
  latency_ms: LatencySummary;
  /** CPU this loader process used over the window, percent of one core (near 100: it is the bottleneck). */
  loader_cpu_percent: number;
  /**
   * How late this loader's own event loop ran over the window (ms): a delivery that arrives while
   * the loader is busy is timed late by up to this much, so latency tails include it.
   */
  loader_delay_ms: { p99: number; max: number };
  /** Send to the publisher's own copy (the server acknowledges by echoing the stored message). */
  ack_latency_ms: LatencySummary;
  errors: number;
  error_codes: Record<string, number>;
  disconnect_reasons: Record<string, number>;
  connect_failures: Record<string, number>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function summary(h: Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.count,
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
    mean: ms(h.mean),
  };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * Opens the clients, has the publishers send stamped messages at the offered rate (open loop:
 * sends never wait for replies), measures every delivery's latency, then closes everything.
 * Bounded: it ends after connect + settle + duration + drain timeout whatever the server does.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const runId = o.runId ?? Math.random().toString(36).slice(2, 8);
  const roomIds = Array.from({ length: o.rooms }, (_, k) => `bench-${runId}-${k}`);
  const members = new Array<number>(o.rooms).fill(0);
  const clients: (BenchClient | undefined)[] = new Array<BenchClient | undefined>(o.clients);
  const latency = new Histogram();
  const ack = new Histogram();
  /** The last second only, for the progress line. */
  const recent = new Histogram();
  const errorCodes: Record<string, number> = {};
  const disconnectReasons: Record<string, number> = {};
  const connectFailures: Record<string, number> = {};
  let connected = 0;
  let failed = 0;
  let disconnects = 0;
  let errors = 0;
  let deliveries = 0;
  let sent = 0;
  let expected = 0;
  let lastActivity = Date.now();
  let phase: Progress['phase'] = 'connect';
  let stopped = false;
  const started = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });

  const eventsFor = (i: number): ClientEvents => {
    return {
      delivery: (us) => {
        if (stopped) return;
        deliveries++;
        latency.record(us);
        recent.record(us);
      },
      ack: (us) => {
        if (!stopped) ack.record(us);
      },
      activity: () => {
        lastActivity = Date.now();
      },
      error: (code) => {
        errors++;
        bump(errorCodes, code);
      },
      closed: (reason) => {
        if (stopped) return;
        clients[i] = undefined;
        members[i % o.rooms]!--;
        disconnects++;
        bump(disconnectReasons, reason.slice(0, 80));
      },
    };
  };

  let lastDeliveries = 0;
  const progress = setInterval(() => {
    const p: Progress = {
      phase,
      elapsedS: Math.round((Date.now() - started) / 100) / 10,
      connected,
      failed,
      sent,
      deliveries,
      deliveriesLastS: deliveries - lastDeliveries,
      p50Ms: Math.round(recent.percentile(50)) / 1000,
      p99Ms: Math.round(recent.percentile(99)) / 1000,
      errors,
      disconnects,
    };
    lastDeliveries = deliveries;
    recent.reset();
    o.onProgress?.(p);
  }, 1000);

  try {
    // ---- connect: a fixed number of handshakes in flight, in client order ----
    let next = 0;
    const addrs = o.localAddresses ?? [];
    const worker = async (): Promise<void> => {
      while (next < o.clients) {
        const i = next++;
        const room = i % o.rooms;
        try {
          clients[i] = await o.connector(
            {
              nick: `b${runId}-${i}`,
              roomId: roomIds[room]!,
              ...(i < o.publishers ? { publisherId: i } : {}),
              timeoutMs: o.joinTimeoutMs ?? 30_000,
              ...(addrs.length > 0 ? { localAddress: addrs[i % addrs.length]! } : {}),
            },
            eventsFor(i),
          );
          members[room]!++;
          connected++;
        } catch (err) {
          failed++;
          bump(connectFailures, (err as Error).message.slice(0, 80));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.clients, o.connectConcurrency ?? 256) }, worker));
    const connectS = (Date.now() - started) / 1000;

    // ---- settle: joins make the server announce each newcomer to the room; let that pass ----
    phase = 'settle';
    const settleStart = Date.now();
    while (Date.now() - lastActivity < 500 && Date.now() - settleStart < 30_000) await sleep(50);
    await o.onReady?.();

    // ---- publish: open loop at the offered rate ----
    phase = 'publish';
    const publishers: { client: BenchClient; roomId: string; room: number; id: number }[] = [];
    for (let i = 0; i < Math.min(o.publishers, o.clients); i++) {
      const client = clients[i];
      if (client) publishers.push({ client, roomId: roomIds[i % o.rooms]!, room: i % o.rooms, id: i });
    }
    const total = o.rate > 0 && publishers.length > 0 ? Math.round(o.rate * o.durationS) : 0;
    const t0 = nowUs();
    const cpu0 = process.cpuUsage();
    loopDelay.enable();
    if (total > 0) {
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const now = nowUs();
          const due = Math.min(total, Math.floor((o.rate * (now - t0)) / 1e6));
          for (; sent < due; sent++) {
            const p = publishers[sent % publishers.length]!;
            p.client.publish(p.roomId, stampedText(now, o.size, p.id));
            expected += members[p.room]!;
          }
          if (sent >= total) {
            clearInterval(tick);
            resolve();
          }
        }, 1);
      });
    }

    // ---- drain: until everything arrived, nothing arrived for 2 s, or the timeout ----
    phase = 'drain';
    const drainStart = Date.now();
    let lastCount = deliveries;
    let lastChange = nowUs();
    while (deliveries < expected && Date.now() - drainStart < (o.drainTimeoutMs ?? 10_000)) {
      await sleep(20);
      if (deliveries !== lastCount) {
        lastCount = deliveries;
        lastChange = nowUs();
      } else if (nowUs() - lastChange > 2e6) break;
    }
    if (deliveries !== lastCount) lastChange = nowUs();
    const windowS = total > 0 ? Math.max(o.durationS, (lastChange - t0) / 1e6) : 0;
    const cpu = process.cpuUsage(cpu0);
    loopDelay.disable();
    const loaderCpuPercent = Math.round(((cpu.user + cpu.system) / Math.max(1, nowUs() - t0)) * 100);
    await o.onDone?.();
    stopped = true;

    return {
      clients: o.clients,
      rooms: o.rooms,
      publishers: publishers.length,
      rate: o.rate,
      duration_s: o.durationS,
      size: o.size,
      connections: { held: connected - disconnects, failed, disconnects },
      connect_s: Math.round(connectS * 100) / 100,
      sent,
      expected_deliveries: expected,
      deliveries,
      deliveries_per_s: windowS > 0 ? Math.round(deliveries / windowS) : 0,
      window_s: Math.round(windowS * 1000) / 1000,
      latency_ms: summary(latency),
      loader_cpu_percent: loaderCpuPercent,
      loader_delay_ms: {
        p99: loopDelay.count > 0 ? Math.round(loopDelay.percentile(99) / 1e3) / 1e3 : 0,
        max: loopDelay.count > 0 ? Math.round(loopDelay.max / 1e3) / 1e3 : 0,
      },
      ack_latency_ms: summary(ack),
      errors,
      error_codes: errorCodes,
      disconnect_reasons: disconnectReasons,
      connect_failures: connectFailures,
    };
  } finally {
    stopped = true;
    clearInterval(progress);
    for (const c of clients) c?.destroy();
  }
}
