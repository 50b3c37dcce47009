import type { IncomingMessage } from 'node:http';

/**
 * Browser requests (WebSocket upgrades, SSE, POST) carry `Origin`; a page on another site must
 * not drive a user's browser into our chat. Allowed: no Origin at all (curl, nc, native
 * clients), the server's own host, and the `--allow-origin` list (`*` allows every origin).
 */
export function originAllowed(req: IncomingMessage, allowList: string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return true;
  if (allowList.includes('*')) return true;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  if (origin === 'null') return false;
  if (host === (req.headers.host ?? '').toLowerCase()) return true;
  return allowList.some((allowed) => {
    const normalised = allowed.toLowerCase().replace(/\/$/, '');
    return normalised === origin.toLowerCase() || normalised === host;
  });
}
