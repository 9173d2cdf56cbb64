// Salted, deliberately slow password hashes (scrypt, from node:crypto: no native dependency).
// Encoded as `scrypt$N$r$p$salt_b64$hash_b64` so parameters can be raised later.
import { scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Random } from '../../lib/clock.ts';

const N = 16384, R = 8, P = 1, KEYLEN = 32;

export function hashPassword(password: string, random: Random): string {
  const salt = random.bytes(16);
  const hash = scryptSync(password, salt, KEYLEN, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * Asynchronous: scrypt runs on libuv's thread pool, so a stream of wrong passwords costs
 * CPU there but never stalls the event loop that answers DHCP, TFTP and the API.
 */
export function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return Promise.resolve(false);
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  if (expected.length === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 },
      (err, actual) => resolve(!err && timingSafeEqual(actual, expected)));
  });
}
