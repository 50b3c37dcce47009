import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';

/**
 * What every test server gets unless the test says otherwise: loopback, a free port, no log
 * output and no monitor line (its interval would outlive a short test). Kept in memory unless
 * the test passes a `store`, a `dataDir`, `onDisk`, or `redis` (a cluster node keeps nothing locally).
 */
export const TEST_SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  logLevel: 'silent',
  monitorIntervalMs: 0,
} as const satisfies ServerOptions;

/** {@link startTestServer}'s options: any server option, plus a throwaway data directory. */
export interface TestServerOptions extends ServerOptions {
  /** Keep the data in SQLite in a fresh temporary directory, removed when the server closes. */
  onDisk?: boolean;
}

/** A running test server: the real one, with its addresses. */
export interface TestServer extends RunningServer {
  /** The temporary data directory of an `onDisk` server. */
  dataDir?: string;
}

/**
 * Starts a real server on 127.0.0.1 and a free port with the test defaults, `overrides` on top
 * (an override set to `undefined` brings back the server's own default). Pass `tcpPort: 0` for
 * the TCP door. `close()` also removes an `onDisk` server's directory.
 */
export async function startTestServer(overrides: TestServerOptions = {}): Promise<TestServer> {
  const { onDisk, ...options } = overrides;
  const dataDir = onDisk ? mkdtempSync(join(tmpdir(), 'chat-test-')) : undefined;
  const storage: ServerOptions =
    dataDir !== undefined
      ? { dataDir }
      : options.store === undefined && options.dataDir === undefined && options.redis === undefined
        ? { memory: true }
        : {};
  const server = await startServer({ ...TEST_SERVER_DEFAULTS, ...storage, ...options });
  if (dataDir === undefined) return server;
  const close = server.close.bind(server);
  return Object.assign(server, {
    dataDir,
    close: async () => {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** What {@link useTestServers} gives a test file. */
export interface TestServers {
  /** Starts a server ({@link startTestServer}) that is closed after the test. */
  serve(overrides?: TestServerOptions): Promise<TestServer>;
  /** Closes `client` after the test (before the servers close). */
  track<T extends { close(): void }>(client: T): T;
}

/**
 * A server (or several) per test: everything started through `serve` and every client passed
 * to `track` is closed after each test, clients first.
 */
export function useTestServers(defaults: TestServerOptions = {}): TestServers {
  const servers: TestServer[] = [];
  const clients: { close(): void }[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async serve(overrides = {}) {
      const server = await startTestServer({ ...defaults, ...overrides });
      servers.push(server);
      return server;
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
}
