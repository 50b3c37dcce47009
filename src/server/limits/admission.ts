import { BlockList, isIPv6 } from 'node:net';
import { realClock, type Clock } from './clock.js';

/** Connection admission settings (see `chat serve --help`). */
export interface AdmissionOptions {
  /** Connections server-wide, every transport together. */
  maxClients: number;
  /** Open connections from one address. */
  maxPerIp: number;
  /** New connections from one address per minute. */
  connectsPerMinute: number;
  /** CIDRs exempt from the per-address limits (loopback by default, as ergo does). */
  exempt: string[];
  clock?: Clock;
}

/**
 * The default exemption: the loopback address itself, where a local bridge or a test harness
 * connects from. Only 127.0.0.1, not all of 127.0.0.0/8: a process on the host can pick any
 * source address in that block, and an exemption for all of it would let one local process
 * hold every connection (add it with `--limit-exempt 127.0.0.0/8` if a bridge needs it).
 */
export const DEFAULT_EXEMPT = ['127.0.0.1/32', '::1/128'];

/** A refusal: a status for HTTP-ish doors and a message for people. */
export interface Refusal {
  code: 'server_full' | 'too_many_connections' | 'connecting_too_fast' | 'shutting_down' | 'forbidden_origin';
  status: number;
  message: string;
}

/** Normalises `::ffff:1.2.3.4` to `1.2.3.4` so IPv4 rules apply to mapped addresses. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Parses a CIDR list into a BlockList; throws a readable error for a bad entry. */
export function cidrList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const family = isIPv6(address ?? '') ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
    if (!address || !Number.isInteger(prefix)) throw new Error(`bad CIDR "${cidr}"`);
    try {
      list.addSubnet(address, prefix, family);
    } catch {
      throw new Error(`bad CIDR "${cidr}"`);
    }
  }
  return list;
}

/**
 * Decides whether a new connection may open, and keeps the counts. Every transport asks it
 * before accepting and tells it when a connection ends.
 */
export class Admission {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();
  private readonly exempt: BlockList;
  private readonly clock: Clock;

  constructor(private readonly options: AdmissionOptions) {
    this.exempt = cidrList(options.exempt);
    this.clock = options.clock ?? realClock;
  }

  private isExempt(address: string): boolean {
    try {
      return this.exempt.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  }

  /** Admits (and counts) a connection from `rawAddress`, or says why not. */
  admit(rawAddress: string): Refusal | undefined {
    const address = normaliseAddress(rawAddress);
    if (this.total >= this.options.maxClients) {
      return {
        code: 'server_full',
        status: 503,
        message: `the server holds ${this.total} connections, its limit`,
      };
    }
    if (!this.isExempt(address)) {
      if ((this.perIp.get(address) ?? 0) >= this.options.maxPerIp) {
        return {
          code: 'too_many_connections',
          status: 429,
          message: `at most ${this.options.maxPerIp} connections per address`,
        };
      }
      const now = this.clock();
      const times = (this.recent.get(address) ?? []).filter((t) => t > now - 60_000);
      if (times.length >= this.options.connectsPerMinute) {
        this.recent.set(address, times);
        return {
          code: 'connecting_too_fast',
          status: 429,
          message: `at most ${this.options.connectsPerMinute} new connections per minute per address`,
        };
      }
      times.push(now);
      this.recent.set(address, times);
    }
    this.total++;
    this.perIp.set(address, (this.perIp.get(address) ?? 0) + 1);
    return undefined;
  }

  /** Forgets one admitted connection. */
  release(rawAddress: string): void {
    const address = normaliseAddress(rawAddress);
    this.total = Math.max(0, this.total - 1);
    const n = (this.perIp.get(address) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(address);
    else this.perIp.set(address, n);
  }

  /** Drops rate history older than a minute (called periodically). */
  sweep(): void {
    const cutoff = this.clock() - 60_000;
    for (const [address, times] of this.recent) {
      const kept = times.filter((t) => t > cutoff);
      if (kept.length === 0) this.recent.delete(address);
      else this.recent.set(address, kept);
    }
  }

  /** Connections currently admitted. */
  get count(): number {
    return this.total;
  }
}
