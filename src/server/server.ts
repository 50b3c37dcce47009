import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub } from './hub.js';
import { createLogger, type Logger, type LogLevel } from './log.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { createHttpHandler, healthRoute, type HttpContext, type HttpRoute } from './transports/http.js';
import { WsTransport } from './transports/ws.js';

/** Everything `chat serve` can be told; all optional. */
export interface ServerOptions {
  host?: string;
  port?: number;
  defaultRoom?: string;
  /** Keep nothing on disk. */
  memory?: boolean;
  dataDir?: string;
  synchronous?: 'normal' | 'full';
  /** A ready store (tests); overrides memory/dataDir. */
  store?: Store;
  logLevel?: LogLevel;
  logger?: Logger;
  compression?: boolean;
  maxQueueBytes?: number;
  maxRoomsPerUser?: number;
  maxMembersPerRoom?: number;
  pingIntervalMs?: number;
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
  log: Logger;
  /** Stops accepting, closes every connection, flushes and closes the store. */
  close(): Promise<void>;
}

/** Starts the hub and its doors. Resolves once listening. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'info');
  const store = options.store ?? openStore({ memory: options.memory ?? false, ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(options.synchronous ? { synchronous: options.synchronous } : {}) });
  const hub = new Hub({
    store,
    ...(options.defaultRoom ? { defaultRoom: options.defaultRoom } : {}),
    ...(options.maxQueueBytes ? { maxQueueBytes: options.maxQueueBytes } : {}),
    ...(options.maxRoomsPerUser ? { maxRoomsPerUser: options.maxRoomsPerUser } : {}),
    ...(options.maxMembersPerRoom ? { maxMembersPerRoom: options.maxMembersPerRoom } : {}),
    onInternalError: (err, context) => log.error({ err }, context),
  });
  await hub.init();

  let serving = true;
  const ctx: HttpContext = { hub, log, serving: () => serving, startedAt: Date.now() };
  const routes: HttpRoute[] = [healthRoute];
  const http: Server = createServer(createHttpHandler(routes, ctx));
  const ws = new WsTransport(hub, {
    ...(options.compression ? { compression: true } : {}),
    ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}),
  });
  http.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket as import('node:net').Socket, head));
  http.on('clientError', (_err, socket) => socket.destroy());

  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      serving = false;
      await hub.drain();
      for (const session of [...hub.allSessions()]) hub.disconnect(session, { code: 'shutdown', message: 'the server is shutting down' });
      ws.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await store.close();
    })());

  return { hub, host, port, url: `ws://${shownHost}:${port}/ws`, httpUrl: `http://${shownHost}:${port}`, log, close };
}
