import { describe, expect, it } from 'vitest';
import { nickKey } from '../../src/protocol/nick.js';
import { banMatches, parseBanMask } from '../../src/server/moderation/ban-mask.js';

/** The three ban forms: what parses, how it is written back, and what it covers. */

const covers = (mask: string, key: string | undefined, address: string): boolean => {
  const ban = parseBanMask(mask);
  if (!ban) throw new Error(`${mask} does not parse`);
  return banMatches(ban, key, address);
};

describe('ban masks', () => {
  it('parses nicks, address globs and CIDR blocks, and refuses anything else', () => {
    expect(parseBanMask('Spammer')).toMatchObject({ kind: 'nick', mask: 'Spammer', key: nickKey('spammer') });
    expect(parseBanMask('*@203.0.113.*')).toMatchObject({ kind: 'address', mask: '*@203.0.113.*' });
    expect(parseBanMask('203.0.113.0/24')).toMatchObject({ kind: 'cidr', mask: '203.0.113.0/24' });
    expect(parseBanMask('2001:DB8::/32')).toMatchObject({ kind: 'cidr', mask: '2001:db8::/32' });
    for (const bad of [
      'a@b',
      '*@',
      '*@*',
      'x@1.2.3.4',
      '1.2.3.4/33',
      '::1/129',
      '1.2.3/8',
      '1.2.3.4/8/1',
      '*@1.2.3.4; DROP',
    ])
      expect(parseBanMask(bad), bad).toBeUndefined();
  });

  it('a nick ban covers the nick and its look-alikes, from any address', () => {
    expect(covers('evan', nickKey('evan'), '10.0.0.1')).toBe(true);
    expect(covers('EVAN', nickKey('evan'), '::1')).toBe(true);
    // A look-alike spelling (Cyrillic е) is the same nick.
    expect(covers('еvan', nickKey('evan'), '::1')).toBe(true);
    expect(covers('evan', 'bob', '10.0.0.1')).toBe(false);
    expect(covers('evan', undefined, '10.0.0.1')).toBe(false);
  });

  it('an address ban covers any nick from a matching address, IPv4-mapped IPv6 included', () => {
    expect(covers('*@203.0.113.*', 'anyone', '203.0.113.7')).toBe(true);
    expect(covers('*@203.0.113.*', undefined, '::ffff:203.0.113.7')).toBe(true);
    expect(covers('*@203.0.113.*', 'anyone', '203.0.114.7')).toBe(false);
    expect(covers('*@203.0.113.?', 'anyone', '203.0.113.12')).toBe(false);
    // The dot is literal: 203x0 is not 203.0.
    expect(covers('*@203.0.113.*', 'anyone', '203x0y113.1')).toBe(false);
  });

  it('a CIDR ban covers its block, in either family', () => {
    expect(covers('203.0.113.0/24', 'a', '203.0.113.255')).toBe(true);
    expect(covers('203.0.113.0/24', 'a', '::ffff:203.0.113.1')).toBe(true);
    expect(covers('203.0.113.0/24', 'a', '203.0.112.255')).toBe(false);
    expect(covers('2001:db8::/32', 'a', '2001:db8:1::5')).toBe(true);
    expect(covers('2001:db8::/32', 'a', '2001:db9::5')).toBe(false);
    expect(covers('0.0.0.0/0', 'a', 'not an address')).toBe(false);
  });
});
