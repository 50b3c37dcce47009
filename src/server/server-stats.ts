import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { TransportKind } from './connection.js';
import type { Hub } from './hub.js';
import type { RoomObserver } from './room.js';

/**
 * Counts per second over a sliding window of whole seconds (a ring of one-second buckets), so a
 * rate costs O(window) to read and O(1) to record, whatever the message volume.
 */
export class RateWindow {
  private readonly counts: number[];
  private readonly stamps: number[];
  private readonly createdSecond: number;

  constructor(
    readonly windowSeconds = 10,
    now = Date.now(),
  ) {
    this.counts = new Array<number>(windowSeconds).fill(0);
    this.stamps = new Array<number>(windowSeconds).fill(-1);
    this.createdSecond = Math.floor(now / 1000);
  }

  /** Records `n` events at time `now`. */
  add(n: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    const i = second % this.windowSeconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** Events per second over the last `windowSeconds` (or since creation, when that is shorter). */
  rate(now = Date.now()): number {
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const stamp = this.stamps[i]!;
      if (stamp > second - this.windowSeconds && stamp <= second) total += this.counts[i]!;
    }
    const span = Math.min(this.windowSeconds, Math.max(1, second - this.createdSecond + 1));
    return total / span;
  }
}

/** Sampling interval of the event-loop delay histogram. */
const LAG_RESOLUTION_MS = 20;

/** What `GET /stats` answers and the monitor logs. */
export interface StatsSnapshot {
  /**
   * Cluster mode: this node's id; every other figure but `cluster` is this node's own
   * (connections, users and rooms with an actor here, messages it stored and delivered).
   */
  node?: string;
  /**
   * Cluster mode: the whole cluster, read from Redis per request (three reads): live nodes,
   * rooms, room memberships. Only `redis: "down"` while Redis cannot answer.
   */
  cluster?: { redis: 'up' | 'down'; nodes?: number; rooms?: number; members?: number };
  uptime_s: number;
  connections: Record<TransportKind, number> & { total: number };
  rooms: number;
  users: number;
  messages: {
    /** Messages stored since the server started. */
    total: number;
    /** Messages stored per second over the last `window_s` seconds. */
    per_second: number;
    window_s: number;
    /** Message events delivered to clients (fan-out) since start. */
    deliveries: number;
    /** Messages and DMs accepted from clients since start. */
    received: number;
  };
  slow_consumers_disconnected: number;
  /** Event-loop delay since the previous monitor line (or start), in milliseconds. */
  event_loop_lag_ms: { p50: number; p99: number; max: number };
}

/**
 * Server-wide counters fed by the rooms (it is the hub's RoomObserver) and read by `/stats`,
 * `/metrics` and the monitor.
 */
export class ServerStats implements RoomObserver {
  readonly startedAt = Date.now();
  messagesStored = 0;
  deliveries = 0;
  private readonly window: RateWindow;
  private readonly lag: IntervalHistogram;
  private readonly listeners: RoomObserver[] = [];

  constructor(windowSeconds = 10) {
    this.window = new RateWindow(windowSeconds, this.startedAt);
    this.lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.lag.enable();
  }

  /** Adds another observer of commits (metrics) behind this one. */
  also(observer: RoomObserver): void {
    this.listeners.push(observer);
  }

  onMessagesCommitted(count: number, deliveries: number | undefined, commitMs: number): void {
    this.messagesStored += count;
    this.deliveries += deliveries ?? 0;
    this.window.add(count);
    for (const l of this.listeners) l.onMessagesCommitted?.(count, deliveries, commitMs);
  }

  onMessagesDelivered(messages: number, deliveries: number): void {
    this.deliveries += deliveries;
    for (const l of this.listeners) l.onMessagesDelivered?.(messages, deliveries);
  }

  /** Messages stored per second over the window. */
  messagesPerSecond(now = Date.now()): number {
    return this.window.rate(now);
  }

  snapshot(hub: Hub, now = Date.now()): StatsSnapshot {
    const { connections, users, rooms } = hub.snapshot();
    const total = Object.values(connections).reduce((a, b) => a + b, 0);
    // The sampler records whole timer intervals: the lag is what exceeds the resolution.
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - LAG_RESOLUTION_MS) * 100) / 100);
    return {
      uptime_s: Math.round((now - this.startedAt) / 1000),
      connections: { ...connections, total },
      rooms,
      users,
      messages: {
        total: this.messagesStored,
        per_second: Math.round(this.messagesPerSecond(now) * 100) / 100,
        window_s: this.window.windowSeconds,
        deliveries: this.deliveries,
        received: hub.counters.messagesIn,
      },
      slow_consumers_disconnected: hub.counters.slowConsumers,
      event_loop_lag_ms:
        this.lag.count > 0
          ? { p50: ms(this.lag.percentile(50)), p99: ms(this.lag.percentile(99)), max: ms(this.lag.max) }
          : { p50: 0, p99: 0, max: 0 },
    };
  }

  /** The snapshot with, in cluster mode, the node's id and the cluster's figures (`GET /stats`). */
  async withCluster(hub: Hub, now = Date.now()): Promise<StatsSnapshot> {
    const node = hub.cluster;
    const snapshot = this.snapshot(hub, now);
    if (!node) return snapshot;
    const cluster = await hub.clusterStats();
    return {
      node: node.nodeId,
      cluster: cluster ? { redis: 'up', ...cluster } : { redis: 'down' },
      ...snapshot,
    };
  }

  /** Starts a new event-loop delay period (the monitor calls it after each line). */
  resetLag(): void {
    this.lag.reset();
  }

  /** Stops the event-loop sampler. */
  close(): void {
    this.lag.disable();
  }
}
