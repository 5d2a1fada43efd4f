import { describe, expect, it } from 'vitest';
import { BayesTokenReads, byBucket, packReads } from '../../src/store/cassandra/bayes-token-reads.js';
import type { CassandraSession } from '../../src/store/cassandra/cassandra-session.js';
import { packPartitions, tokenBucket } from '../../src/store/cassandra/bayes-tokens.js';

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

/** A session that answers each read when the test says so, with the spam count it is given. */
function heldSession() {
  const pending: { terms: string[]; answer: (spam: number) => void }[] = [];
  const session = {
    table: (name: string) => `ks.${name}`,
    execute: (_query: string, params: unknown[]) =>
      new Promise((resolve) => {
        const terms = params[2] as string[];
        pending.push({
          terms,
          answer: (spam) => resolve({ rows: terms.map((term) => ({ get: (c: string) => (c === 'term' ? term : c === 'spam' ? spam : 0) })) }),
        });
      }),
  } as unknown as CassandraSession;
  return { session, pending };
}

describe('BayesTokenReads memory', () => {
  it('keeps nothing read by a lookup that a learn through this node overlapped', async () => {
    const { session, pending } = heldSession();
    const reads = new BayesTokenReads(session, tokenBucket, 60_000);
    const first = reads.lookup('global', ['cheap']);
    await Promise.resolve();
    // A learn of 'cheap' ends while the read is on its way: what it read may be from before.
    reads.forget('global', ['cheap']);
    pending.shift()!.answer(1);
    expect((await first).get('cheap')).toEqual({ spam: 1, ham: 0 });
    const second = reads.lookup('global', ['cheap']);
    await Promise.resolve();
    expect(pending).toHaveLength(1);
    pending.shift()!.answer(2);
    expect((await second).get('cheap')).toEqual({ spam: 2, ham: 0 });
    // No learn this time: the next lookup is answered from memory.
    expect((await reads.lookup('global', ['cheap'])).get('cheap')).toEqual({ spam: 2, ham: 0 });
    expect(pending).toHaveLength(0);
  });
});

describe('packPartitions (counter batches of a learn)', () => {
  const partition = (bucket: number, n: number) => Array.from({ length: n }, (_, i) => ({ query: 'UPDATE', params: [1, 'global', bucket, `t${bucket}-${i}`] }));

  it('puts at most 10 partitions and 64 statements in a batch, every statement once', () => {
    const perPartition = Array.from({ length: 180 }, (_, bucket) => partition(bucket, 1 + (bucket % 3)));
    const batches = packPartitions(perPartition);
    expect(batches.flat()).toEqual(perPartition.flat());
    for (const batch of batches) {
      expect(new Set(batch.map((s) => s.params[2])).size).toBeLessThanOrEqual(10);
      expect(batch.length).toBeLessThanOrEqual(64);
    }
    expect(batches.length).toBe(18);
  });

  it('sends a partition with more statements than a batch holds alone, whole', () => {
    const batches = packPartitions([partition(1, 2), partition(2, 100), partition(3, 2)]);
    expect(batches.map((b) => b.length)).toEqual([2, 100, 2]);
  });
});
