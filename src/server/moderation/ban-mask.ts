import { BlockList, isIP } from 'node:net';
import { checkNick, nickKey } from '../../protocol/nick.js';

/**
 * A parsed ban, matched against who a session is (its nick key) and where it connects from.
 *
 * Three forms (docs/moderation.md):
 * - a nick, `spammer`: matches that nick (by collision key, so confusable spellings match too);
 * - an address pattern, `*@203.0.113.*`: `*` any run of characters, `?` one, matched against the
 *   client's address (IPv4-mapped IPv6 addresses are compared in their IPv4 form);
 * - a CIDR block, `203.0.113.0/24` or `2001:db8::/32`.
 * An address ban holds whatever nick the client takes, so a nick change does not escape it.
 */
export type BanMask =
  | { kind: 'nick'; mask: string; key: string }
  | { kind: 'address'; mask: string; pattern: RegExp }
  | { kind: 'cidr'; mask: string; block: BlockList };

/** Parses a ban as typed; undefined when it is none of the three forms. */
export function parseBanMask(text: string): BanMask | undefined {
  const mask = text.trim();
  if (mask.includes('/')) return parseCidr(mask);
  if (mask.includes('@')) {
    const at = mask.indexOf('@');
    const address = mask.slice(at + 1).toLowerCase();
    // No idents or host names here: the part before @ is always `*`, the rest an address glob.
    if (mask.slice(0, at) !== '*' || !/^[0-9a-f.:*?]{1,45}$/.test(address) || !/[0-9a-f]/.test(address))
      return undefined;
    const source = address.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.');
    return { kind: 'address', mask: `*@${address}`, pattern: new RegExp(`^${source}$`) };
  }
  const nick = checkNick(mask);
  return nick.ok ? { kind: 'nick', mask: nick.nick, key: nickKey(nick.nick) } : undefined;
}

function parseCidr(mask: string): BanMask | undefined {
  const [base = '', bits = '', extra] = mask.split('/');
  const family = isIP(base);
  const prefix = Number(bits);
  if (extra !== undefined || family === 0 || !/^\d{1,3}$/.test(bits)) return undefined;
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  const block = new BlockList();
  block.addSubnet(base, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return { kind: 'cidr', mask: `${base.toLowerCase()}/${prefix}`, block };
}

/** The address as a ban compares it: `::ffff:1.2.3.4` is `1.2.3.4`. */
export function banAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/** True when the ban covers a client with this nick key (if any) connecting from `address`. */
export function banMatches(ban: BanMask, key: string | undefined, address: string): boolean {
  switch (ban.kind) {
    case 'nick':
      return key !== undefined && key === ban.key;
    case 'address':
      return ban.pattern.test(banAddress(address));
    case 'cidr': {
      const a = banAddress(address);
      const family = isIP(a);
      return family !== 0 && ban.block.check(a, family === 4 ? 'ipv4' : 'ipv6');
    }
  }
}
