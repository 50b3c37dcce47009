import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from './hub.js';
import type { RoomObserver } from './room.js';

/** The process-wide registry of the Node.js default metrics, made on first use. */
let processRegistry: Registry | undefined;

/**
 * The Node.js default metrics (event-loop lag, GC, heap, CPU) describe the process, not a
 * server, and prom-client cannot stop collecting them: each `collectDefaultMetrics` call enables
 * an event-loop delay monitor and a GC observer that live as long as the process. So they are
 * collected once per process, into a registry every server's scrape appends, however many
 * servers one process starts and stops (the tests start hundreds).
 */
export function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

/**
 * Prometheus metrics for one server, in a Registry of its own (never prom-client's global one:
 * tests run many servers in one process). Gauges and hub counters are read at scrape time;
 * commit latency and fan-out are observed as the rooms commit (this is a RoomObserver).
 * The scrape ends with the process-wide Node.js default metrics ({@link processMetricsRegistry}).
 */
export class ServerMetrics implements RoomObserver {
  readonly registry = new Registry();
  private readonly stored: Counter;
  private readonly deliveries: Counter;
  private readonly commitSeconds: Histogram;
  private readonly batchSize: Histogram;
  private readonly fanout: Histogram;
  private readonly process: Registry;

  constructor(hub: Hub) {
    const registers = [this.registry];
    new Gauge({
      name: 'chat_connections',
      help: 'Open client connections by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const [transport, n] of Object.entries(hub.snapshot().connections)) this.set({ transport }, n);
      },
    });
    new Gauge({
      name: 'chat_rooms',
      help: 'Rooms on the server.',
      registers,
      collect() {
        this.set(hub.roomCount);
      },
    });
    new Gauge({
      name: 'chat_users',
      help: 'Identified users online (nicks in use).',
      registers,
      collect() {
        this.set(hub.userCount);
      },
    });
    const node = hub.cluster?.nodeId;
    if (node !== undefined) {
      // Cluster mode: every series above is this node's; these say which node, and the whole cluster's size.
      new Gauge({
        name: 'chat_node_info',
        help: 'Cluster mode: 1, labelled with this node id.',
        labelNames: ['node'],
        registers,
        collect() {
          this.set({ node }, 1);
        },
      });
      const cluster = new Gauge({
        name: 'chat_cluster',
        help: 'Cluster mode: live nodes, rooms and room memberships on every node (read from Redis at scrape time; absent while Redis is down).',
        labelNames: ['what'],
        registers,
        async collect() {
          cluster.reset();
          const figures = await hub.clusterStats();
          if (!figures) return;
          for (const [what, n] of Object.entries(figures)) cluster.set({ what }, n);
        },
      });
    }
    const fromHub = (name: string, help: string, read: (h: Hub) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(hub));
        },
      });
    };
    fromHub(
      'chat_messages_received_total',
      'Messages and DMs accepted from clients.',
      (h) => h.counters.messagesIn,
    );
    fromHub(
      'chat_frames_received_total',
      'Requests received from clients, valid or not.',
      (h) => h.counters.framesIn,
    );
    fromHub('chat_errors_sent_total', 'Error events sent to clients.', (h) => h.counters.errorsOut);
    fromHub(
      'chat_slow_consumers_disconnected_total',
      'Clients disconnected because their outbound queue passed the bound.',
      (h) => h.counters.slowConsumers,
    );
    this.stored = new Counter({
      name: 'chat_messages_stored_total',
      help: 'Room messages committed to the store.',
      registers,
    });
    this.deliveries = new Counter({
      name: 'chat_message_deliveries_total',
      help: 'Room message events queued to clients (fan-out deliveries, messages out).',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'chat_store_commit_seconds',
      help: 'Time to commit one batch of room messages to the store.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'chat_store_commit_batch_messages',
      help: 'Messages per store commit.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.fanout = new Histogram({
      name: 'chat_fanout_recipients',
      help: 'Recipients per room message on this node (averaged over each delivered batch).',
      buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000, 20000, 100000],
      registers,
    });
    this.process = processMetricsRegistry();
  }

  onMessagesCommitted(count: number, deliveries: number | undefined, commitMs: number): void {
    this.stored.inc(count);
    this.commitSeconds.observe(commitMs / 1000);
    this.batchSize.observe(count);
    if (deliveries !== undefined) this.onMessagesDelivered(count, deliveries);
  }

  /** Deliveries of `messages` (a commit's on one node, a feed batch's on a cluster node). */
  onMessagesDelivered(messages: number, deliveries: number): void {
    this.deliveries.inc(deliveries);
    if (messages > 0) this.fanout.observe(deliveries / messages);
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    // Both end with a newline, so the concatenation is valid exposition text.
    return (await this.registry.metrics()) + (await this.process.metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
