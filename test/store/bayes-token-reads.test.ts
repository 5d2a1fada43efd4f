import { describe, expect, it } from 'vitest';
import { byBucket, packReads } from '../../src/store/cassandra/bayes-token-reads.js';
import { tokenBucket } from '../../src/store/cassandra/bayes-tokens.js';

/** How the Cassandra Bayes lookup packs a message's tokens into reads. */
describe('packReads', () => {
  const cases: [string, number][] = [
    ['one token', 1],
    ['a short message', 40],
    ['a usual message', 300],
    ['the tokenizer at maxTokens', 3000],
  ];
  for (const [name, count] of cases) {
    it(`reads every token once, no read beyond 256 lookups: ${name}`, () => {
      const tokens = Array.from({ length: count }, (_, i) => `t${i}`);
      const reads = packReads(byBucket(tokens, tokenBucket));
      const terms = reads.flatMap((r) => r.terms);
      expect(terms.sort()).toEqual([...tokens].sort());
      for (const read of reads) {
        expect(read.buckets.length * read.terms.length).toBeLessThanOrEqual(256);
        for (const term of read.terms) expect(read.buckets).toContain(tokenBucket(term));
      }
      const buckets = new Set(tokens.map(tokenBucket)).size;
      // Fewer reads than partitions touched, once there are several of them.
      if (buckets > 16) expect(reads.length).toBeLessThan(buckets / 2);
    });
  }

  it('splits a bucket with more terms than one read may look up', () => {
    const many = Array.from({ length: 600 }, (_, i) => `x${i}`);
    const reads = packReads(new Map([[7, many]]));
    expect(reads.map((r) => [r.buckets, r.terms.length])).toEqual([[[7], 256], [[7], 256], [[7], 88]]);
  });
});
