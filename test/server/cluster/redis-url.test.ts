import { describe, expect, it } from 'vitest';
import { commandOptions, subscriberOptions } from '../../../src/server/cluster/connect.js';
import { parseRedisUrl } from '../../../src/server/cluster/redis-url.js';

describe('parseRedisUrl', () => {
  it('takes redis:// with auth, port and db, and hides the password when displayed', () => {
    const t = parseRedisUrl('redis://app:s3cret@db.example:6380/2');
    expect(t.options).toEqual({ host: 'db.example', port: 6380, username: 'app', password: 's3cret', db: 2 });
    expect(t.display).toBe('redis://app:***@db.example:6380/2');
    expect(t.display).not.toContain('s3cret');
  });

  it('defaults the port, and turns on TLS for rediss://', () => {
    expect(parseRedisUrl('redis://localhost').options).toEqual({ host: 'localhost', port: 6379 });
    expect(parseRedisUrl('rediss://cache.example').options).toEqual({
      host: 'cache.example',
      port: 6379,
      tls: { servername: 'cache.example' },
    });
    expect(parseRedisUrl('redis://[::1]:7000').options).toMatchObject({ host: '::1', port: 7000 });
  });

  it('takes a unix:// URL and a bare socket path', () => {
    expect(parseRedisUrl('unix:///run/redis/redis.sock?db=3').options).toEqual({
      path: '/run/redis/redis.sock',
      db: 3,
    });
    expect(parseRedisUrl('/tmp/r.sock')).toEqual({
      options: { path: '/tmp/r.sock' },
      display: 'unix:/tmp/r.sock',
    });
  });

  it('refuses other forms with a clear message that never repeats a password', () => {
    expect(() => parseRedisUrl('http://x')).toThrow(/unsupported scheme "http:"/);
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/unsupported scheme|not a URL/);
    expect(() => parseRedisUrl('redis://h/abc')).toThrow(/database "abc"/);
    expect(() => parseRedisUrl('unix://relative')).toThrow(/absolute socket path/);
    let message = '';
    try {
      parseRedisUrl('redis//user:hunter2@host');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not a URL/);
    expect(message).not.toContain('hunter2');
  });
});

describe('connection options', () => {
  it('never queue offline, never re-send in-flight commands, time commands out, retry for ever', () => {
    const o = commandOptions(parseRedisUrl('/tmp/r.sock'));
    expect(o).toMatchObject({
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
    });
    expect(typeof o.retryStrategy === 'function' && o.retryStrategy(1000)).toBe(1000);
    const s = subscriberOptions(parseRedisUrl('/tmp/r.sock'));
    expect(s).toMatchObject({
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
    });
    expect(s.commandTimeout).toBeUndefined();
  });
});
