import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

/**
 * scrypt cost for new hashes. N=2^15, r=8 takes 32 MiB and ~50-100 ms per hash: costly enough for
 * an offline attacker, cheap enough that a burst of `register`/`hello` does not exhaust the server.
 * Verification reads the parameters from the stored hash, so raising them later keeps old hashes valid.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse parameters from a stored hash that would make one verification take gigabytes. */
const MAX_N = 2 ** 20;
const MAX_RP = 16;

/**
 * Hashes a password with scrypt and a random 16-byte salt, as `scrypt$N$r$p$saltB64$hashB64`.
 * The password itself appears nowhere in the result, in logs or in errors.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Whether `password` matches a hash from {@link hashPassword}, compared in constant time.
 * A malformed hash verifies nothing (false) rather than throw.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

interface ParsedHash {
  params: { N: number; r: number; p: number };
  salt: Buffer;
  key: Buffer;
}

function parseHash(hash: string): ParsedHash | undefined {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (N === undefined || r === undefined || p === undefined) return undefined;
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || !(r >= 1 && r <= MAX_RP) || !(p >= 1 && p <= MAX_RP)) return undefined;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const key = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length === 0 || key.length < 16) return undefined;
  return { params: { N, r, p }, salt, key };
}

function derive(
  password: string,
  salt: Buffer,
  length: number,
  params: ParsedHash['params'],
): Promise<Buffer> {
  // Node refuses scrypt above maxmem (32 MiB by default); allow exactly what the parameters need.
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * params.p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
