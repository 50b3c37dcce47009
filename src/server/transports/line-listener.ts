import type { AddressInfo, Server, Socket } from 'node:net';

/** Starts `server` listening; resolves with the bound port (useful with port 0). */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Stops `server` listening, gives the sockets the hub has ended up to `graceMs` to flush their
 * last lines, then drops whatever is left. Shared by the TCP line door and the IRC door.
 */
export async function closeWithGrace(server: Server, sockets: Set<Socket>, graceMs: number): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  if (sockets.size > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      timer.unref();
      const check = (): void => {
        if (sockets.size > 0) return;
        clearTimeout(timer);
        resolve();
      };
      for (const socket of sockets) socket.once('close', () => setImmediate(check));
    });
  }
  for (const socket of sockets) socket.destroy();
  await stopped;
}
