import { io } from 'socket.io-client';
import type { Connector } from '../src/load/connector.js';
import { nowUs, readStamp } from '../src/load/connector.js';

/**
 * Benchmark clients on the real socket.io-client (websocket transport only), for bench/compare.ts
 * `--sio-client real`. Costlier per delivery than the raw loader (it decodes every packet), so on a
 * small machine it competes with the server for CPU; the raw loader speaks the same wire format.
 */
export function socketioClientConnector(url: string): Connector {
  const base = url.replace(/^ws/, 'http').replace(/\/socket\.io\/?$/, '');
  return (request, events) =>
    new Promise((resolve, reject) => {
      const socket = io(base, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        ...(request.localAddress ? { localAddress: request.localAddress } : {}),
      });
      let joined = false;
      const timer = setTimeout(() => {
        socket.disconnect();
        reject(new Error(`no join within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      socket.on('connect', () => socket.emit('join', request.roomId));
      socket.on('joined', () => {
        events.activity();
        if (joined) return;
        joined = true;
        clearTimeout(timer);
        resolve({
          publish: (roomId, text) => socket.emit('message', { room_id: roomId, message: text }),
          destroy: () => socket.disconnect(),
        });
      });
      socket.on('message', (m: { message?: string }) => {
        if (typeof m?.message !== 'string') return;
        const { sent, publisherId } = readStamp(m.message);
        if (sent < 0) return;
        events.delivery(nowUs() - sent);
        if (publisherId === request.publisherId) events.ack(nowUs() - sent);
      });
      socket.on('connect_error', (err: Error) => {
        events.error('connect_error');
        if (!joined) {
          clearTimeout(timer);
          reject(err);
        }
      });
      socket.on('disconnect', (reason: string) => {
        if (joined) events.closed(reason);
      });
    });
}
