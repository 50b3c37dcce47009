import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP load balancer without stickiness, as an operator would put in front of
 * several `chat serve --redis` nodes: each new link goes to the next target in turn, and to the
 * one after when a target refuses (a dead node). Bytes are passed through untouched.
 */
export interface RoundRobinProxy {
  port: number;
  /** Links accepted per target port so far. */
  readonly perTarget: Map<number, number>;
  /** Cuts every open link (both sides), as a balancer restart or a network blip would. */
  dropAll(): void;
  close(): Promise<void>;
}

/** Starts the balancer on a free 127.0.0.1 port in front of `targets` (ports on 127.0.0.1). */
export async function startRoundRobinProxy(targets: number[]): Promise<RoundRobinProxy> {
  const links = new Set<Socket>();
  const perTarget = new Map<number, number>(targets.map((t) => [t, 0]));
  let next = 0;
  const server: Server = createServer((client) => {
    links.add(client);
    client.pause();
    const forget = (...sockets: Socket[]) => {
      for (const s of sockets) {
        s.destroy();
        links.delete(s);
      }
    };
    client.on('error', () => forget(client));
    const attempt = (tries: number): void => {
      if (tries >= targets.length || client.destroyed) return forget(client);
      const port = targets[next++ % targets.length]!;
      const upstream = connect(port, '127.0.0.1');
      links.add(upstream);
      let up = false;
      upstream.once('connect', () => {
        up = true;
        perTarget.set(port, (perTarget.get(port) ?? 0) + 1);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.on('close', () => forget(client, upstream));
        upstream.on('close', () => forget(client, upstream));
      });
      upstream.on('error', () => {
        if (up) return forget(client, upstream);
        // Refused (the node is down): the next target takes the link.
        forget(upstream);
        attempt(tries + 1);
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    perTarget,
    dropAll() {
      for (const s of [...links]) s.destroy();
      links.clear();
    },
    async close() {
      for (const s of [...links]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
