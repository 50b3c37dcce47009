import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../src/server/auth/password.js';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('writes scrypt$N$r$p$salt$hash with a 16-byte salt and never the password', async () => {
    const password = 'hunter2hunter2';
    const hash = await hashPassword(password);
    const [scheme, n, r, p, salt, key] = hash.split('$');
    expect(scheme).toBe('scrypt');
    expect([n, r, p].every((s) => /^\d+$/.test(s ?? ''))).toBe(true);
    expect(Buffer.from(salt ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(key ?? '', 'base64').length).toBeGreaterThanOrEqual(32);
    expect(hash).not.toContain(password);
    expect(hash).not.toContain(Buffer.from(password).toString('base64'));
  });

  it('salts every hash, so one password gives different hashes that both verify', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('treats canonically equivalent spellings as one password', async () => {
    // "é" precomposed and as "e" + combining acute: one password, typed on two keyboards.
    const hash = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$2b$10$abc'],
    ['too few fields', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA=='],
    [
      'N not a power of two',
      'scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
    ],
    [
      'N too large',
      'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
    ],
    [
      'non-numeric r',
      'scrypt$16384$x$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
    ],
    ['empty key', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$'],
  ])('refuses a malformed hash (%s) without throwing', async (_, hash) => {
    expect(await verifyPassword('anything', hash)).toBe(false);
  });
});
