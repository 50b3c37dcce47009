import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/protocol/events.js';
import type { Connection, TransportKind } from '../../src/server/connection.js';
import { Outbound } from '../../src/server/outbound.js';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server.js';
import { until } from './wait.js';

/** A real client of one door, as the contract sees it. */
export interface DoorClient {
  /** Everything the client has received so far, as text (JSON, lines or SSE blocks). */
  text(): string;
  /** Stops reading from the socket (the kernel buffers fill, then the server's). */
  pause(): void;
  resume(): void;
  /** True once the server ended the connection. */
  ended(): boolean;
  /** Whether the client was told `reason` when the server closed it (the door's own way). */
  toldWhy(reason: { code: string; message: string }): boolean;
  close(): void;
}

/** How to open a door's client against a server; the contract finds the server's side itself. */
export interface Door {
  /** The door's `Connection.transport`. */
  transport: TransportKind;
  /** What the server needs for this door (e.g. `tcpPort: 0`). */
  serverOptions?: TestServerOptions;
  /** Opens a real client; resolves once the server has made its Connection. */
  open(server: TestServer, nick: string): Promise<DoorClient>;
}

/** A `message` event whose text is `marker` (every door shows a message's text). */
function event(marker: string, room = 'lobby'): Outbound {
  const message: ServerMessage = {
    type: 'message',
    payload: { room_id: room, seq: 1, id: marker, ts: Date.now(), user_name: 'contract', message: marker },
  };
  return new Outbound(message);
}

/** Turns of the event loop, so queued writes and flushes have happened. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The `Connection` contract (src/server/connection.ts), run against one door of a real server:
 * the Connection under test is the one the server made for a real client of that door. Every
 * door that keeps a client connected runs it (test/server/transports/connection-*.test.ts).
 */
export function runConnectionContract(name: string, door: Door): void {
  describe(`${name} Connection contract`, () => {
    let server: TestServer;
    let made: Connection[] = [];
    const clients: DoorClient[] = [];
    let n = 0;

    beforeAll(async () => {
      server = await startTestServer({ rateLimit: false, ...door.serverOptions });
      // Sees every Connection a door hands the hub, without changing what the hub does.
      const connect = server.hub.connect.bind(server.hub);
      server.hub.connect = (conn) => {
        made.push(conn);
        return connect(conn);
      };
    });
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
      made = [];
    });
    afterAll(async () => {
      await server.close();
    });

    async function open(): Promise<{ conn: Connection; client: DoorClient }> {
      made = [];
      const client = await door.open(server, `door${++n}`);
      clients.push(client);
      const conn = made.find((c) => c.transport === door.transport);
      if (!conn) throw new Error(`the ${name} door made no ${door.transport} connection`);
      return { conn, client };
    }

    it('says which door it is and who is at the other end', async () => {
      const { conn } = await open();
      expect(conn.transport).toBe(door.transport);
      expect(conn.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    });

    it('delivers what it is sent, in the order sent', async () => {
      const { conn, client } = await open();
      const markers = ['first-mark', 'second-mark', 'third-mark'];
      for (const m of markers) conn.send(event(m));
      await until(() => client.text().includes('third-mark'));
      const at = markers.map((m) => client.text().indexOf(m));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    });

    it('has nothing buffered once the client has read it all, and drained resolves', async () => {
      const { conn, client } = await open();
      conn.send(event('read-mark'));
      await until(() => client.text().includes('read-mark'));
      await conn.drained(0);
      expect(conn.bufferedBytes()).toBe(0);
    });

    it('holds drained back while the client does not read, and releases it once it does', async () => {
      const { conn, client } = await open();
      client.pause();
      const big = 'x'.repeat(60_000);
      const lowWater = 64 * 1024;
      // Fill the kernel's buffers on both sides, then the server's own.
      for (let i = 0; i < 2000 && conn.bufferedBytes() <= 16 * lowWater; i++) {
        // What send returns bounds what is buffered (the slow-consumer check trusts it below the cap).
        expect(conn.send(event(`${big}-${i}`))).toBeGreaterThanOrEqual(conn.bufferedBytes());
        await turns(1);
      }
      expect(conn.bufferedBytes()).toBeGreaterThan(16 * lowWater);
      let atRelease: number | undefined;
      const waiting = conn.drained(lowWater).then(() => (atRelease = conn.bufferedBytes()));
      await turns(20);
      // Still held back, so still above the mark (the kernel may take some bytes meanwhile).
      if (atRelease === undefined) expect(conn.bufferedBytes()).toBeGreaterThan(lowWater);
      client.resume();
      await waiting;
      expect(atRelease).toBeLessThanOrEqual(lowWater);
    });

    it('ends the connection on close, telling the client why', async () => {
      const { conn, client } = await open();
      const reason = { code: 'idle', message: 'contract says goodbye' };
      conn.close(reason);
      await until(() => client.ended());
      expect(client.toldWhy(reason)).toBe(true);
    });

    it('after close: send never throws and drained resolves at once', async () => {
      const { conn, client } = await open();
      conn.close({ code: 'idle', message: 'closed for the contract' });
      await until(() => client.ended());
      expect(() => conn.send(event('late-mark'))).not.toThrow();
      await conn.drained(0);
      await turns(5);
      expect(client.text()).not.toContain('late-mark');
    });

    it('cuts a backed-up client at once on slow_consumer, whatever is still queued', async () => {
      const { conn, client } = await open();
      client.pause();
      const big = 'y'.repeat(60_000);
      for (let i = 0; i < 2000 && conn.bufferedBytes() <= 256 * 1024; i++) {
        conn.send(event(`${big}-${i}`));
        await turns(1);
      }
      let released = false;
      const waiting = conn.drained(0).then(() => (released = true));
      conn.close({ code: 'slow_consumer', message: 'too slow' });
      // The server's side is done at once: a waiting replay step is let go without the client.
      await waiting;
      expect(released).toBe(true);
      client.resume();
      // The client still reads what the kernel holds (megabytes) before it sees the end: on a
      // busy machine that took longer than until's default 5 s once.
      await until(() => client.ended(), 15_000);
    });
  });
}
