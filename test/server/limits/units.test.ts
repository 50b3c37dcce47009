import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Admission } from '../../../src/server/limits/admission.js';
import { KeyedRateLimiters } from '../../../src/server/limits/keyed.js';
import { OriginPolicy, ownOrigins } from '../../../src/server/limits/origin.js';
import { RateLimiter } from '../../../src/server/limits/rate-limit.js';
import { runFilters, wordFilter } from '../../../src/server/moderation/filters.js';

function fakeClock(start = 0) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter (token bucket with an injected clock)', () => {
  it('allows the burst at once, then exactly the rate', () => {
    const t = fakeClock();
    const limiter = new RateLimiter({ burst: 10, perSecond: 5, clock: t.clock });
    let accepted = 0;
    // 1,000 msgs/s for 4 s: one attempt per millisecond.
    for (let ms = 0; ms <= 4000; ms++) {
      if (limiter.take().ok) accepted++;
      t.advance(1);
    }
    expect(accepted).toBe(10 + 5 * 4);
  });

  it('says how long to wait', () => {
    const t = fakeClock();
    const limiter = new RateLimiter({ burst: 1, perSecond: 5, clock: t.clock });
    expect(limiter.take().ok).toBe(true);
    const refused = limiter.take();
    expect(refused).toEqual({ ok: false, retryAfterMs: 200, flooding: false });
    t.advance(200);
    expect(limiter.take().ok).toBe(true);
  });

  it('calls 3x the rate sustained for 10 s flooding, but not a short burst over it', () => {
    const t = fakeClock();
    const limiter = new RateLimiter({ burst: 10, perSecond: 5, clock: t.clock });
    let flooding = false;
    let at = 0;
    for (let i = 0; i < 15 * 12 && !flooding; i++) {
      const d = limiter.take();
      if (!d.ok && d.flooding) {
        flooding = true;
        at = i / 15;
      }
      t.advance(1000 / 15);
    }
    expect(flooding).toBe(true);
    expect(at).toBeGreaterThanOrEqual(10);
    expect(at).toBeLessThan(12); // the burst lasts about a second before the first refusal

    // 1,000 msgs/s is refused from the start but only cut once it has lasted the window.
    const t2 = fakeClock();
    const fast = new RateLimiter({ burst: 10, perSecond: 5, clock: t2.clock });
    let cutAt = -1;
    for (let ms = 0; ms < 12_000 && cutAt < 0; ms++) {
      const d = fast.take();
      if (!d.ok && d.flooding) cutAt = ms;
      t2.advance(1);
    }
    expect(cutAt).toBeGreaterThanOrEqual(10_000);
    expect(cutAt).toBeLessThan(10_100);

    // Twice the rate is refused half the time but never cut: it pauses between refusals.
    const t3 = fakeClock();
    const eager = new RateLimiter({ burst: 10, perSecond: 5, clock: t3.clock });
    for (let i = 0; i < 10 * 60; i++) {
      expect(eager.take()).not.toMatchObject({ flooding: true });
      t3.advance(100);
    }
  });
});

describe('KeyedRateLimiters (one bucket per address, bounded)', () => {
  it('keeps one bucket per key: one key refused, another still served', () => {
    const t = fakeClock();
    const keyed = new KeyedRateLimiters({ burst: 2, perSecond: 1, clock: t.clock });
    expect([keyed.take('a').ok, keyed.take('a').ok, keyed.take('a').ok]).toEqual([true, true, false]);
    expect(keyed.take('b').ok).toBe(true);
    expect(keyed.take('a')).toMatchObject({ ok: false, retryAfterMs: 1000 });
    t.advance(1000);
    expect(keyed.take('a').ok).toBe(true);
  });

  it('remembers at most maxKeys keys under a flood of addresses, forgetting the least recently used', () => {
    const t = fakeClock();
    const keyed = new KeyedRateLimiters({ burst: 1, perSecond: 1, clock: t.clock, maxKeys: 100 });
    keyed.take('busy'); // its one token is spent
    for (let i = 0; i < 10_000; i++) {
      keyed.take(`10.0.${i >> 8}.${i & 255}`);
      if (i % 50 === 0) expect(keyed.take('busy').ok).toBe(false); // used recently: never evicted
      expect(keyed.size).toBeLessThanOrEqual(100);
    }
    expect(keyed.size).toBe(100);
  });

  it('forgets a key once its bucket is full again, so idle addresses cost no memory', () => {
    const t = fakeClock();
    const keyed = new KeyedRateLimiters({ burst: 4, perSecond: 2, clock: t.clock });
    for (let i = 0; i < 500; i++) keyed.take(`192.0.2.${i}`);
    expect(keyed.size).toBe(500);
    t.advance(1999); // 4 tokens at 2/s: full after 2 s
    keyed.take('fresh');
    expect(keyed.size).toBe(501);
    t.advance(1);
    keyed.take('fresh');
    expect(keyed.size).toBe(1);
  });
});

describe('Admission', () => {
  it('caps connections per address and server-wide; loopback is exempt from the per-address cap', () => {
    const a = new Admission({
      maxClients: 5,
      maxPerIp: 2,
      connectsPerMinute: 100,
      exempt: ['127.0.0.0/8', '::1/128'],
    });
    expect(a.admit('10.0.0.1')).toBeUndefined();
    expect(a.admit('10.0.0.1')).toBeUndefined();
    expect(a.admit('10.0.0.1')).toMatchObject({ code: 'too_many_connections', status: 429 });
    expect(a.admit('::ffff:127.0.0.1')).toBeUndefined();
    expect(a.admit('127.0.0.1')).toBeUndefined();
    expect(a.admit('::1')).toBeUndefined();
    expect(a.admit('10.0.0.2')).toMatchObject({ code: 'server_full', status: 503 });
    a.release('10.0.0.1');
    expect(a.admit('10.0.0.1')).toBeUndefined();
  });

  it('limits the rate of new connections per address over a minute', () => {
    const t = fakeClock();
    const a = new Admission({
      maxClients: 100,
      maxPerIp: 100,
      connectsPerMinute: 3,
      exempt: [],
      clock: t.clock,
    });
    for (let i = 0; i < 3; i++) {
      expect(a.admit('192.0.2.7')).toBeUndefined();
      a.release('192.0.2.7');
    }
    expect(a.admit('192.0.2.7')).toMatchObject({ code: 'connecting_too_fast' });
    t.advance(60_001);
    expect(a.admit('192.0.2.7')).toBeUndefined();
  });

  it('honours --limit-exempt CIDRs and refuses a malformed one', () => {
    const a = new Admission({
      maxClients: 100,
      maxPerIp: 1,
      connectsPerMinute: 100,
      exempt: ['198.51.100.0/24', '2001:db8::/32'],
    });
    for (let i = 0; i < 3; i++) expect(a.admit('198.51.100.9')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(a.admit('2001:db8::1')).toBeUndefined();
    expect(
      () => new Admission({ maxClients: 1, maxPerIp: 1, connectsPerMinute: 1, exempt: ['not-an-ip/8'] }),
    ).toThrow(/bad CIDR/);
  });
});

describe('OriginPolicy', () => {
  const req = (origin: string | undefined, host = 'chat.example:8080') =>
    ({ headers: { ...(origin === undefined ? {} : { origin }), host } }) as IncomingMessage;
  const policy = (allow: string[]): OriginPolicy => {
    const p = new OriginPolicy(allow);
    p.setOwn(ownOrigins({ host: '127.0.0.1', port: 8080, tls: false, publicUrl: 'https://chat.example' }));
    return p;
  };
  it.each([
    [undefined, [], true],
    ['http://127.0.0.1:8080', [], true],
    ['http://localhost:8080', [], true],
    ['http://[::1]:8080', [], true],
    ['https://chat.example', [], true],
    ['https://chat.example:443', [], true],
    // Trusting Host would let a rebinding page in; only what the server was told counts.
    ['http://chat.example:8080', [], false],
    ['https://127.0.0.1:8080', [], false],
    ['http://localhost:8081', [], false],
    ['https://evil.example', [], false],
    ['null', [], false],
    ['https://friend.example', ['https://friend.example'], true],
    ['http://friend.example', ['https://friend.example'], false],
    ['https://friend.example', ['friend.example'], true],
    ['https://anything.example', ['*'], true],
    ['garbage', [], false],
    ['file:///etc/passwd', [], false],
  ] as [string | undefined, string[], boolean][])(
    'origin %s with allow-list %j -> %s',
    (origin, allow, expected) => {
      expect(policy(allow).allows(req(origin))).toBe(expected);
    },
  );

  it('the own origins follow the listen address and TLS', () => {
    expect(ownOrigins({ host: '127.0.0.1', port: 21080, tls: false })).toEqual([
      'http://127.0.0.1:21080',
      'http://localhost:21080',
      'http://[::1]:21080',
    ]);
    expect(ownOrigins({ host: 'chat.internal', port: 443, tls: true })).toEqual(['https://chat.internal']);
    const wildcard = ownOrigins({ host: '0.0.0.0', port: 80, tls: false });
    expect(wildcard).toContain('http://localhost');
    expect(wildcard).toContain('http://127.0.0.1');
    expect(wildcard.every((o) => o.startsWith('http://'))).toBe(true);
  });
});

describe('moderation filters', () => {
  it('masks listed words, whole words only, any case', () => {
    const f = wordFilter(['darn', 'heck'], 'mask');
    expect(runFilters([f], { user: 'a', target: 'r', text: 'Darn it, what the HECK; darned' })).toEqual({
      action: 'pass',
      text: '**** it, what the ****; darned',
    });
  });

  it('refuses in refuse mode and stops the pipeline', () => {
    let later = false;
    const f = wordFilter(['spam'], 'refuse');
    const after = () => ((later = true), { action: 'pass' as const, text: 'x' });
    expect(runFilters([f, after], { user: 'a', target: 'r', text: 'buy spam now' })).toMatchObject({
      action: 'refuse',
    });
    expect(later).toBe(false);
  });
});
