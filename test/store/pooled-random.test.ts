import { describe, expect, it } from 'vitest';
import { monotonicFactory, isValid } from 'ulid';
import { pooledRandom } from '../../src/store/pooled-random.js';

describe('pooledRandom', () => {
  it('gives fractions in [0, 1) across several pool refills, spread over all 32 ulid characters', () => {
    const random = pooledRandom();
    const buckets = new Array<number>(32).fill(0);
    for (let i = 0; i < 3 * 4096 + 7; i++) {
      const r = random();
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(1);
      buckets[Math.floor(r * 32)]++;
    }
    expect(buckets.every((n) => n > 0)).toBe(true);
  });

  it('drives a monotonic ulid factory: valid ids in increasing order within one millisecond', () => {
    const next = monotonicFactory(pooledRandom());
    const ids = Array.from({ length: 1000 }, () => next(1_700_000_000_000));
    expect(ids.every((id) => isValid(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
