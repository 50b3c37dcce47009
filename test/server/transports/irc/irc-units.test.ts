import { describe, expect, it } from 'vitest';
import { KeyedRateLimiters } from '../../../../src/server/limits/keyed.js';
import { outbound } from '../../../../src/server/outbound.js';
import type { Cap } from '../../../../src/server/transports/irc/caps.js';
import { sharedLines } from '../../../../src/server/transports/irc/events.js';
import { FakeLag } from '../../../../src/server/transports/irc/flood.js';

describe('IRC event rendering', () => {
  it('renders a room event once per distinct set of caps that changes it, however many read it', () => {
    const out = outbound({
      type: 'message',
      payload: { room_id: 'lobby', seq: 1, id: 'm-1', ts: 0, user_name: 'alice', message: 'hi' },
    });
    let builds = 0;
    const render = out.render.bind(out);
    out.render = ((kind: string, build: (o: typeof out) => unknown) =>
      render(kind, (o) => (builds++, build(o)))) as typeof out.render;
    const plain = new Set<Cap>();
    const tagged = new Set<Cap>(['server-time', 'message-tags']);
    const taggedToo = new Set<Cap>(['message-tags', 'server-time', 'echo-message', 'batch']);
    const lines = [plain, tagged, taggedToo, plain, tagged].map((caps) => sharedLines(out, caps));
    expect(builds).toBe(2);
    expect(lines[0]).toBe(':alice!~u@chat PRIVMSG #lobby :hi\r\n');
    expect(lines[1]).toBe('@time=1970-01-01T00:00:00.000Z;msgid=m-1 :alice!~u@chat PRIVMSG #lobby :hi\r\n');
    expect(lines[2]).toBe(lines[1]);
  });
});

describe('IRC flood control (fake lag)', () => {
  const options = { burst: 3, perSecond: 20, addressBurst: 100, addressPerSecond: 100, maxLagged: 10 };

  it('runs a burst at once, lags the rest at the steady rate, and never cuts a client within the bound', async () => {
    const ran: string[] = [];
    let flooded = false;
    const lag = new FakeLag(
      options,
      new KeyedRateLimiters({ burst: 100, perSecond: 100 }),
      '10.0.0.1',
      (l) => ran.push(l),
      () => (flooded = true),
    );
    lag.push(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(lag.lagged).toBe(3);
    await new Promise<void>((resolve) => {
      const check = (): void => (ran.length === 6 ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(flooded).toBe(false);
    lag.stop();
  });

  it('cuts a client that keeps sending past the bound of lagged lines', () => {
    let flooded = false;
    const lag = new FakeLag(
      options,
      new KeyedRateLimiters({ burst: 100, perSecond: 100 }),
      '10.0.0.2',
      () => {},
      () => (flooded = true),
    );
    lag.push(Array.from({ length: 14 }, (_, i) => `l${i}`));
    expect(flooded).toBe(true);
  });

  it('lags all connections of one address together', () => {
    const shared = new KeyedRateLimiters({ burst: 4, perSecond: 1 });
    const ran: string[] = [];
    const a = new FakeLag(
      options,
      shared,
      '10.0.0.3',
      (l) => ran.push(l),
      () => {},
    );
    const b = new FakeLag(
      options,
      shared,
      '10.0.0.3',
      (l) => ran.push(l),
      () => {},
    );
    const other = new FakeLag(
      options,
      shared,
      '10.0.0.4',
      (l) => ran.push(l),
      () => {},
    );
    a.push(['a1', 'a2', 'a3']);
    b.push(['b1', 'b2', 'b3']);
    other.push(['o1']);
    // Each connection's own burst is 3, but the address has 4 between them.
    expect(ran).toEqual(['a1', 'a2', 'a3', 'b1', 'o1']);
    for (const l of [a, b, other]) l.stop();
  });
});
