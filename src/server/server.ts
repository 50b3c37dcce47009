import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Hub, type HubOptions } from './hub.js';
import { SERVE_DEFAULTS } from '../options/serve.js';
import { Admission, DEFAULT_EXEMPT } from './limits/admission.js';
import { normaliseOrigin, OriginPolicy, ownOrigins } from './limits/origin.js';
import { KeyedRateLimiters } from './limits/keyed.js';
import { DEFAULT_MESSAGE_RATE, type RateLimitOptions } from './limits/rate-limit.js';
import type { MessageFilter } from './moderation/filters.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { openStore } from './store/open.js';
import { RedisEngine } from './cluster/redis-engine.js';
import { DEFAULT_LEASE_MS } from './cluster/leases.js';
import { commitTimingOf, type Store } from './store/store-types.js';
import { createHttpHandler, healthRoute, type HttpContext, type HttpRoute } from './transports/http.js';
import { WsTransport } from './transports/ws.js';
import { ServerMetrics } from './metrics.js';
import { startMonitor } from './monitor.js';
import { ServerStats } from './server-stats.js';
import { postRoute } from './transports/post.js';
import type { WritePacing } from './transports/flush-pacer.js';
import { SseTransport } from './transports/sse.js';
import { browserModulesRoute, staticRoute } from './transports/static.js';
import { forceCloseAfterGrace } from './transports/close-grace.js';
import { gateConnections, httpRefusal } from './transports/accept-gate.js';
import { maxClientsFor, readFdLimit } from './limits/fd-limit.js';
import { metricsRoute, statsRoute } from './transports/stats-routes.js';
import { TcpTransport } from './transports/tcp.js';
import { IrcTransport } from './transports/irc/irc.js';
import type { FloodOptions } from './transports/irc/flood.js';
import { hostname } from 'node:os';

/**
 * The hub's room and request limits, which `chat serve` hands to the hub as given (documented on
 * HubOptions; their defaults are in src/options/serve.ts).
 */
const HUB_LIMITS = [
  'maxRooms',
  'roomCreateLimit',
  'roomCreateAddressLimit',
  'readLimit',
  'readAddressLimit',
  'presenceLimit',
  'presenceAddressLimit',
  'roomIdleExpiryMs',
  'passwordLimit',
  'operators',
] as const satisfies readonly (keyof HubOptions)[];

/** The {@link HUB_LIMITS} of `options` that are set. */
function hubLimitsOf(options: ServerOptions): Pick<HubOptions, (typeof HUB_LIMITS)[number]> {
  const limits: Pick<HubOptions, (typeof HUB_LIMITS)[number]> = {};
  for (const key of HUB_LIMITS)
    if (options[key] !== undefined) Object.assign(limits, { [key]: options[key] });
  return limits;
}

/** Everything `chat serve` can be told; all optional. */
export interface ServerOptions extends Pick<HubOptions, (typeof HUB_LIMITS)[number]> {
  host?: string;
  port?: number;
  defaultRoom?: string;
  /** Keep nothing on disk. */
  memory?: boolean;
  dataDir?: string;
  synchronous?: 'normal' | 'full';
  /** Messages kept per room (`--retain`); default: all on disk, 10,000 in memory. */
  retainPerRoom?: number;
  /** Skip `PRAGMA quick_check` of chat.db at start (`--skip-db-check`). */
  skipDbCheck?: boolean;
  /** A ready store (tests); overrides memory/dataDir/synchronous/retainPerRoom/skipDbCheck. */
  store?: Store;
  /**
   * Run as one node of a cluster on this Redis (`--redis`, any form parseRedisUrl takes): rooms,
   * seqs, history, nicks and presence live there (see docs/cluster.md). Nothing is kept locally.
   */
  redis?: string;
  /** Start on a Redis that fails the durability check (`--redis-unchecked`). */
  redisUnchecked?: boolean;
  /** This node's id in the cluster (random when absent). */
  nodeId?: string;
  /** The node lease (ms): a node killed without a goodbye is reaped by the others after about this. Default 10,000. */
  nodeLeaseMs?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  compression?: boolean;
  maxQueueBytes?: number;
  maxRoomsPerUser?: number;
  maxMembersPerRoom?: number;
  pingIntervalMs?: number;
  /** Writes per socket at most every this many ms under sustained traffic (0: once per turn). */
  writeDelayMs?: number;
  /** Latency budget of the load-following write spacing (every door); 0 turns it off. Default 25. */
  maxWriteDelayMs?: number;
  /** Share of the event loop writing may take under load before flushes are spaced (0-1]. Default 0.25. */
  writeShare?: number;
  /**
   * Message rate limit, per connection (WebSocket, TCP) and per address (POST); `false`
   * disables it. Default burst 10, then 5/s.
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * Sockets server-wide, every door together (HTTP ones included). Default: what the open-file
   * limit allows (see limits/fd-limit.ts), at most 50,000.
   */
  maxClients?: number;
  /** Open sockets per address, HTTP ones included (loopback exempt by default). Default 16. */
  maxPerIp?: number;
  /**
   * An HTTP request whose headers are not all in within this many ms is answered 408 and closed
   * (the whole request, body included, gets three times as long, at least 30 s). Default 10,000.
   */
  headersTimeoutMs?: number;
  /** New connections per address per minute. Default 60. */
  connectsPerMinute?: number;
  /** CIDRs exempt from the per-address limits. Default 127.0.0.1 and ::1. */
  limitExempt?: string[];
  /** Extra allowed browser origins (`*` for any); the server's own origins are always allowed. */
  allowOrigins?: string[];
  /**
   * The URL people open (`--public-url`, e.g. `https://chat.example.com` behind a TLS proxy):
   * its origin counts as the server's own, besides the listen address. The request's `Host`
   * header never does (DNS rebinding).
   */
  publicUrl?: string;
  /** PEM files: serve wss/https (and TLS on the TCP port). */
  tlsCert?: string;
  tlsKey?: string;
  /** Close connections that do not identify within this many ms. Default 30,000. */
  identifyTimeoutMs?: number;
  /** How long shutdown waits for clients to read their last events and close. Default 2,000 ms. */
  shutdownDrainMs?: number;
  /** Moderation filters run on every message and DM. */
  filters?: MessageFilter[];
  /** Plain TCP line port (nc/telnet); 0 picks a free one; absent: no TCP door. */
  tcpPort?: number;
  /** IRC port (plain); 0 picks a free one; absent: no IRC door. */
  ircPort?: number;
  /** IRC over TLS (needs tlsCert and tlsKey); 0 picks a free one. */
  ircTlsPort?: number;
  /** The IRC door's server name. Default: the host name. */
  serverName?: string;
  /** IRC message of the day, one string per line. */
  ircMotd?: string[];
  /** IRC flood control (tests): see transports/irc/flood.ts. */
  ircFlood?: Partial<FloodOptions>;
  /** Interval of the monitor's stats log line; 0 turns it off. Default 5,000 ms. */
  monitorIntervalMs?: number;
  /** Directory served at `GET /` (default: the package's web/). */
  webRoot?: string;
  /** Interval of SSE heartbeat comments. Default 15,000 ms. */
  sseHeartbeatMs?: number;
}

/** A running server. */
export interface RunningServer {
  hub: Hub;
  host: string;
  port: number;
  /** ws://host:port/ws */
  url: string;
  /** http://host:port */
  httpUrl: string;
  /** The TCP line port, when `tcpPort` was given. */
  tcpPort?: number;
  /** The IRC ports, when given. */
  ircPort?: number;
  ircTlsPort?: number;
  /** Server-wide counters (what `/stats` shows). */
  stats: ServerStats;
  log: Logger;
  /** Stops accepting, closes every connection, flushes and closes the store. */
  close(): Promise<void>;
}

/** Starts the hub and its doors. Resolves once listening. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(options.logLevel ?? SERVE_DEFAULTS.logLevel);
  const engine = options.redis === undefined ? undefined : await openEngine(options, log);
  const store =
    options.store ??
    openStore({
      // A node keeps no local state: the hub's store is an empty stand-in the cluster path never writes.
      memory: engine !== undefined || (options.memory ?? false),
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.synchronous ? { synchronous: options.synchronous } : {}),
      ...(options.retainPerRoom !== undefined ? { retainPerRoom: options.retainPerRoom } : {}),
      skipDbCheck: options.skipDbCheck ?? false,
      onWarning: (message) => log.warn(message),
    });
  const stats = new ServerStats();
  const hub = new Hub({
    store,
    ...(engine ? { engine } : {}),
    observer: stats,
    ...(options.defaultRoom ? { defaultRoom: options.defaultRoom } : {}),
    ...(options.maxQueueBytes ? { maxQueueBytes: options.maxQueueBytes } : {}),
    ...(options.maxRoomsPerUser ? { maxRoomsPerUser: options.maxRoomsPerUser } : {}),
    ...(options.maxMembersPerRoom ? { maxMembersPerRoom: options.maxMembersPerRoom } : {}),
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
    ...hubLimitsOf(options),
    ...(options.filters ? { filters: options.filters } : {}),
    ...(options.identifyTimeoutMs !== undefined ? { identifyTimeoutMs: options.identifyTimeoutMs } : {}),
    onInternalError: (err, context) => log.error({ err }, context),
  });
  await hub.init();

  const fdLimit = readFdLimit();
  const fdMaxClients = maxClientsFor(fdLimit.soft);
  const maxClients = options.maxClients ?? fdMaxClients;
  const limitText =
    fdLimit.soft === undefined
      ? `the open-file limit is ${fdLimit.source}`
      : `the open-file limit is ${fdLimit.soft} (${fdLimit.source})`;
  if (maxClients > fdMaxClients && fdLimit.soft !== undefined) {
    log.warn(
      { max_clients: maxClients, fd_limit: fdLimit.soft },
      `--max-clients ${maxClients} is more than ${limitText} allows (${fdMaxClients}); a flood can exhaust file descriptors: raise ulimit -n or lower --max-clients`,
    );
  } else {
    log.info(
      { max_clients: maxClients, fd_limit: fdLimit.soft ?? null },
      `at most ${maxClients} connections${options.maxClients === undefined ? ` (${limitText}; --max-clients to change)` : ''}`,
    );
  }
  const admission = new Admission({
    maxClients,
    maxPerIp: options.maxPerIp ?? SERVE_DEFAULTS.maxPerIp,
    connectsPerMinute: options.connectsPerMinute ?? SERVE_DEFAULTS.connectsPerMinute,
    exempt: options.limitExempt ?? DEFAULT_EXEMPT,
  });
  const sweeper = setInterval(() => admission.sweep(), 60_000);
  sweeper.unref();
  if (options.publicUrl !== undefined && normaliseOrigin(options.publicUrl) === undefined) {
    throw new Error(`public URL ${options.publicUrl} is not an http:// or https:// URL`);
  }
  // The own origins are set once the port is known, before the first request can arrive.
  const origins = new OriginPolicy(options.allowOrigins ?? []);

  let serving = true;
  const ctx: HttpContext = { hub, log, serving: () => serving, startedAt: Date.now(), origins };
  const metrics = new ServerMetrics(hub);
  stats.also(metrics);
  const pacing: WritePacing = {
    ...(options.writeDelayMs ? { writeDelayMs: options.writeDelayMs } : {}),
    ...(options.maxWriteDelayMs !== undefined ? { maxWriteDelayMs: options.maxWriteDelayMs } : {}),
    ...(options.writeShare !== undefined ? { writeShare: options.writeShare } : {}),
  };
  const sse = new SseTransport(hub, {
    ...pacing,
    ...(options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {}),
  });
  // The static files come last: they claim only paths that are files under web/.
  // Posts share the message limit's settings, one bucket per address (default: as the hub's).
  const postRate =
    options.rateLimit === false
      ? undefined
      : new KeyedRateLimiters(options.rateLimit ?? DEFAULT_MESSAGE_RATE);
  const routes: HttpRoute[] = [
    healthRoute,
    statsRoute(hub, stats),
    metricsRoute(metrics),
    postRoute(hub, postRate ? { rate: postRate } : {}),
    sse.route,
    browserModulesRoute(),
    staticRoute(options.webRoot),
  ];
  const tls =
    options.tlsCert && options.tlsKey
      ? { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) }
      : undefined;
  const handler = createHttpHandler(routes, ctx);
  const headersTimeout = options.headersTimeoutMs ?? SERVE_DEFAULTS.headerTimeout * 1000;
  const httpOptions = {
    headersTimeout,
    requestTimeout: Math.max(30_000, 3 * headersTimeout),
    // Node checks the two timeouts on this interval (30 s by default): the cut is at most this late.
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
  const http: Server = tls
    ? createHttpsServer({ ...tls, ...httpOptions }, handler)
    : createServer(httpOptions, handler);
  // Every socket is admitted (counted per address and server-wide) before it is parsed, so HTTP
  // sockets that never finish a request count like WebSocket and TCP ones.
  gateConnections(http, { admission, log, door: 'http', ...(tls ? {} : { refusalText: httpRefusal }) });
  const ws = new WsTransport(hub, {
    ...(options.compression ? { compression: true } : {}),
    ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}),
    ...pacing,
    // Its socket was admitted when it was accepted (gateConnections); only the origin is left.
    admit: (req) =>
      origins.allows(req)
        ? undefined
        : { status: 403, message: `origin ${String(req.headers.origin).slice(0, 100)} is not allowed` },
  });
  http.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket as Socket, head));
  // The store commits as the first step of the WebSocket door's flushes: one transaction per
  // flush, and the acknowledgements and deliveries it releases leave in that flush.
  const commits = commitTimingOf(store);
  commits?.commitWhen(ws.leadFlushesWith(() => commits.commitPending()));
  // Cluster mode: the node's commit round goes to Redis, and what the room channels brought is
  // routed, as the first step of the same flushes (RedisEngine.timeWith).
  engine?.timeWith(ws.leadFlushesWith((step) => engine.flushStep(step)));
  http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Answer as Node does without a listener (431 for headers past the 16 KiB limit, 400 for
    // other parse errors) so a client learns why; a socket mid-response is only dropped.
    const busy = (socket as { _httpMessage?: unknown })._httpMessage;
    if (!socket.writable || busy) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // HTTP sockets are half-open: a peer that never closes its side must not linger.
    forceCloseAfterGrace(socket, () => socket.destroy());
  });

  const host = options.host ?? SERVE_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? SERVE_DEFAULTS.port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  origins.setOwn(
    ownOrigins({
      host,
      port,
      tls: tls !== undefined,
      ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
    }),
  );
  const shownHost = host.includes(':') ? `[${host}]` : host;

  let tcp: TcpTransport | undefined;
  let tcpPort: number | undefined;
  if (options.tcpPort !== undefined) {
    tcp = new TcpTransport(hub, {
      ...pacing,
      ...(tls ? { tls } : {}),
      admission,
      log,
    });
    try {
      tcpPort = await tcp.listen(options.tcpPort, host);
    } catch (err) {
      clearInterval(sweeper);
      sse.close();
      stats.close();
      http.close();
      await store.close();
      throw err;
    }
  }
  const ircDoors: IrcTransport[] = [];
  const ircPorts: { ircPort?: number; ircTlsPort?: number } = {};
  if (options.ircTlsPort !== undefined && !tls)
    throw new Error('--irc-tls-port needs --tls-cert and --tls-key');
  for (const [key, wanted] of [
    ['ircPort', options.ircPort],
    ['ircTlsPort', options.ircTlsPort],
  ] as const) {
    if (wanted === undefined) continue;
    const door = new IrcTransport(hub, {
      ...pacing,
      serverName: options.serverName ?? hostname(),
      ...(options.ircMotd ? { motd: options.ircMotd } : {}),
      ...(options.ircFlood ? { flood: options.ircFlood } : {}),
      ...(key === 'ircTlsPort' && tls ? { tls } : {}),
      admission,
      log,
    });
    ircDoors.push(door);
    try {
      ircPorts[key] = await door.listen(wanted, host);
    } catch (err) {
      clearInterval(sweeper);
      await tcp?.close(0);
      for (const d of ircDoors) await d.close(0);
      sse.close();
      stats.close();
      http.close();
      await store.close();
      throw err;
    }
  }
  const stopMonitor =
    options.monitorIntervalMs === 0
      ? () => {}
      : startMonitor(log, hub, stats, options.monitorIntervalMs ?? 5000);

  let closing: Promise<void> | undefined;
  /**
   * Graceful shutdown: health turns 503 and listeners stop accepting; rooms finish what is in
   * their mailboxes (every accepted message is committed and acknowledged); every client gets a
   * `shutdown` notice and its queue is flushed before its connection closes; then the store is
   * flushed and closed.
   */
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      serving = false;
      clearInterval(sweeper);
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await hub.drain();
      await hub.shutdown();
      // Clients answer the close frame once they have read everything before it.
      await ws.whenEmpty(options.shutdownDrainMs ?? 2000);
      // The door flushes no more: the store times its own commits again (close() commits the rest).
      commits?.commitWhen(undefined);
      engine?.timeWith(undefined);
      ws.close();
      await tcp?.close(options.shutdownDrainMs ?? 2000);
      await Promise.all(ircDoors.map((d) => d.close(options.shutdownDrainMs ?? 2000)));
      sse.close();
      stopMonitor();
      stats.close();
      http.closeAllConnections();
      await stopped;
      // The leaves and nick releases of the sessions just closed reach Redis before its links close.
      if (engine) await hub.drain();
      await engine?.close();
      await store.close();
    })());

  const scheme = tls ? 's' : '';
  return {
    hub,
    host,
    port,
    url: `ws${scheme}://${shownHost}:${port}/ws`,
    httpUrl: `http${scheme}://${shownHost}:${port}`,
    ...(tcpPort !== undefined ? { tcpPort } : {}),
    ...ircPorts,
    stats,
    log,
    close,
  };
}

/** Opens the Redis engine of a cluster node (see ServerOptions.redis) and logs what it found. */
async function openEngine(options: ServerOptions, log: Logger): Promise<RedisEngine> {
  const engine = await RedisEngine.open({
    url: options.redis!,
    unchecked: options.redisUnchecked ?? false,
    leaseMs: options.nodeLeaseMs ?? DEFAULT_LEASE_MS,
    ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
    ...(options.retainPerRoom !== undefined ? { retain: options.retainPerRoom } : {}),
    onError: (err, context) => log.warn({ err }, context),
  });
  engine.on('state', (state) => {
    if (state === 'down')
      log.error({ node: engine.nodeId }, 'lost Redis; requests that need it fail until it is back');
    else log.info({ node: engine.nodeId }, 'Redis is back');
  });
  log.info({ node: engine.nodeId, durability: engine.durability }, `cluster node ${engine.nodeId} on Redis`);
  return engine;
}
