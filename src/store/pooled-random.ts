import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS per refill: one system call serves this many draws. */
const POOL_BYTES = 4096;

/**
 * A PRNG for ulid's factories: fractions in [0, 1) from cryptographic random bytes, drawn in
 * pools. ulid's default asks the OS for one byte per character (16 calls per entry id), which
 * showed up on the delivery path; the bytes are just as random taken 4 KiB at a time. Each byte
 * divided by 256 maps evenly onto ulid's 32 characters (8 byte values per character).
 */
export function pooledRandom(): () => number {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let next = POOL_BYTES;
  return () => {
    if (next === POOL_BYTES) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++] / 256;
  };
}
