import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server, so a test can cut a client's link (or refuse it for a while,
 * or silently swallow its traffic) without touching the server or the client.
 */
export interface TcpProxy {
  port: number;
  /** Destroys every open link. */
  dropAll(): void;
  /** While refusing, new links are closed at once. */
  refuse(on: boolean): void;
  /** While black-holed, bytes are swallowed in both directions but the sockets stay open. */
  blackhole(on: boolean): void;
  /** While muted, the server's bytes never reach the client (the client's still reach the server). */
  mute(on: boolean): void;
  /**
   * While stranding, a link the client closes stays open towards the server, silently: a dead
   * link the server has not noticed (its session, and its nick, live on).
   */
  strand(on: boolean): void;
  /** Links accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port forwarding to 127.0.0.1:`targetPort`. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const links = new Set<Socket>();
  let refusing = false;
  let holed = false;
  let muted = false;
  let stranding = false;
  let count = 0;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    count++;
    const upstream = connect(targetPort, '127.0.0.1');
    links.add(client);
    links.add(upstream);
    let stranded = false;
    const forget = () => {
      client.destroy();
      upstream.destroy();
      links.delete(client);
      links.delete(upstream);
    };
    const clientGone = () => {
      if (!stranding) return forget();
      stranded = true;
      links.delete(client);
    };
    client.on('data', (d) => holed || upstream.write(d));
    upstream.on('data', (d) => holed || muted || stranded || client.write(d));
    client.on('close', clientGone);
    upstream.on('close', forget);
    client.on('error', clientGone);
    upstream.on('error', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    dropAll: () => {
      for (const s of links) s.destroy();
      links.clear();
    },
    refuse: (on) => {
      refusing = on;
    },
    blackhole: (on) => {
      holed = on;
    },
    mute: (on) => {
      muted = on;
    },
    strand: (on) => {
      stranding = on;
    },
    accepted: () => count,
    close: async () => {
      for (const s of links) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
