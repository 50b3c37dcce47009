import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';

/**
 * Browser requests (WebSocket upgrades, SSE streams, POST) carry `Origin`; a page on another
 * site must not drive a user's browser into our chat. Allowed: no Origin at all (curl, nc,
 * native clients), the server's own origins, and the `--allow-origin` list (`*` allows every
 * origin).
 *
 * The server's own origins are the addresses it was told it is, never the request's `Host`
 * header: a DNS-rebinding page at `http://evil.example:8080` whose name resolves to this server
 * sends `Host: evil.example:8080` and the matching Origin, and must not count as same-site. They
 * are `--public-url` when given, plus the listen address and port (for a loopback listen also
 * `localhost`, `127.0.0.1` and `[::1]`; for a wildcard listen every local interface address),
 * with `https` only when TLS is on.
 */
export class OriginPolicy {
  private readonly allowAny: boolean;
  /** Full origins (`scheme://host[:port]`) from the allow list. */
  private readonly allowedOrigins = new Set<string>();
  /** Scheme-less entries of the allow list (`chat.example.com[:port]`): any scheme. */
  private readonly allowedHosts = new Set<string>();
  private readonly own = new Set<string>();

  constructor(allowList: string[]) {
    this.allowAny = allowList.includes('*');
    for (const entry of allowList) {
      if (entry === '*') continue;
      const origin = normaliseOrigin(entry);
      if (origin) this.allowedOrigins.add(origin);
      else this.allowedHosts.add(entry.toLowerCase().replace(/\/$/, ''));
    }
  }

  /** Sets the server's own origins, once it knows its port (see {@link ownOrigins}). */
  setOwn(origins: string[]): void {
    this.own.clear();
    for (const origin of origins) this.own.add(origin);
  }

  /** The server's own origins, for the log and tests. */
  ownOrigins(): string[] {
    return [...this.own];
  }

  /** Whether a request with this `Origin` header may go on. */
  allows(req: IncomingMessage): boolean {
    const header = req.headers.origin;
    if (header === undefined || header === '') return true;
    if (this.allowAny) return true;
    const origin = normaliseOrigin(header);
    if (!origin) return false; // `null` (sandboxed frames, file://) and garbage
    if (this.own.has(origin) || this.allowedOrigins.has(origin)) return true;
    return this.allowedHosts.has(new URL(origin).host);
  }
}

/** `scheme://host[:port]` lower-cased, default port dropped; undefined for anything else. */
export function normaliseOrigin(text: string): string | undefined {
  if (!/^https?:\/\//i.test(text)) return undefined;
  try {
    const origin = new URL(text).origin;
    return origin === 'null' ? undefined : origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Where the server listens and what it was told it is. */
export interface OwnAddress {
  /** The listen host (`0.0.0.0`, `::`, `127.0.0.1`, a name). */
  host: string;
  /** The bound port. */
  port: number;
  tls: boolean;
  /** `--public-url`: the URL people open (behind a proxy, its scheme and port). */
  publicUrl?: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The origins a browser shows for pages this server served itself. */
export function ownOrigins(address: OwnAddress): string[] {
  const scheme = address.tls ? 'https' : 'http';
  const hosts = new Set<string>();
  const host = address.host.toLowerCase();
  if (isWildcard(host)) {
    for (const name of LOOPBACK_NAMES) hosts.add(name);
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) hosts.add(bracket(info.address.replace(/%.*$/, '')));
    }
  } else {
    hosts.add(bracket(host));
    if (isLoopback(host)) for (const name of LOOPBACK_NAMES) hosts.add(name);
  }
  const origins = new Set<string>();
  for (const h of hosts) {
    const origin = normaliseOrigin(`${scheme}://${h}:${address.port}`);
    if (origin) origins.add(origin);
  }
  if (address.publicUrl !== undefined) {
    const origin = normaliseOrigin(address.publicUrl);
    if (origin) origins.add(origin);
  }
  return [...origins];
}
