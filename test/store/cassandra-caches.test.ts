import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CassandraMessageStore, type CassandraMessageStoreOptions } from '../../src/store/cassandra/cassandra-message-store.js';
import { TestKeyspace, testStoreOptions } from '../helpers/cassandra.js';
import { makeDelivery, sha256Hex } from './delivery-fixture.js';

/**
 * What a Cassandra node serves from memory (RCPT address lookups, Bayes totals), and what it
 * must never serve from there: an address not found, or totals its own learn just changed.
 */
const keyspace = new TestKeyspace();

beforeAll(() => keyspace.create(), 120_000);
afterAll(() => keyspace.drop(), 60_000);

// The driver checks `instanceof` its own RequestTracker class, which its typings only declare.
const TrackerBase = (cassandra.tracker as unknown as { RequestTracker: new () => object }).RequestTracker;

/** Counts the statements (alone or in a batch) whose CQL names a table. */
class TableStatements extends TrackerBase implements cassandra.tracker.RequestTracker {
  private readonly queries: string[] = [];
  onSuccess(_h: unknown, query: unknown): void {
    if (typeof query === 'string') this.queries.push(query);
    // A batch: its statements.
    else if (Array.isArray(query)) for (const q of query as { query: string }[]) this.queries.push(q.query);
  }
  onError(): void {}
  shutdown(): void {}
  count(table: string, verb = 'SELECT'): number {
    return this.queries.filter((q) => q.startsWith(verb) && q.includes(`.${table} `)).length;
  }
}

/** A second node on the test keyspace, with its own connection pool and memory. */
async function otherNode(overrides: Partial<CassandraMessageStoreOptions> = {}): Promise<CassandraMessageStore> {
  const store = new CassandraMessageStore(testStoreOptions(keyspace.keyspace, overrides));
  await store.init();
  return store;
}

describe('Cassandra store: what a node keeps in memory', () => {
  it('serves a found address from memory, but never an address it did not find', async () => {
    const tracker = new TableStatements();
    const { store: nodeA, cleanup } = await keyspace.freshStore({ addressCacheMs: 60_000, requestTracker: tracker });
    const nodeB = await otherNode();
    try {
      await nodeB.addDomain('example.com');
      expect(await nodeA.resolveAddress('alice@example.com')).toBeNull();
      // Added on another node right after: reachable at once, no refusal from memory.
      const box = await nodeB.addMailbox({ address: 'alice@example.com', aliases: ['al@example.com'], quotaBytes: 0 });
      expect((await nodeA.resolveAddress('alice@example.com'))?.id).toBe(box.id);
      const reads = tracker.count('addresses_by_name');
      for (let i = 0; i < 5; i++) expect((await nodeA.resolveAddress('ALICE@example.com'))?.id).toBe(box.id);
      expect(tracker.count('addresses_by_name')).toBe(reads);
      expect(tracker.count('mailboxes')).toBe(1);
    } finally {
      await nodeB.close();
      await cleanup();
    }
  });

  it('stops accepting a removed mailbox at once on the removing node, and within addressCacheMs elsewhere', async () => {
    const { store: nodeA, cleanup } = await keyspace.freshStore({ addressCacheMs: 60_000 });
    const nodeB = await otherNode({ addressCacheMs: 300 });
    const nodeC = await otherNode({ addressCacheMs: 0 });
    try {
      await nodeA.addDomain('example.com');
      await nodeA.addMailbox({ address: 'alice@example.com', aliases: ['al@example.com'], quotaBytes: 0 });
      for (const node of [nodeA, nodeB, nodeC]) expect(await node.resolveAddress('al@example.com')).not.toBeNull();
      await nodeA.removeMailbox('alice@example.com');
      expect(await nodeA.resolveAddress('al@example.com')).toBeNull();
      expect(await nodeA.resolveAddress('alice@example.com')).toBeNull();
      expect(await nodeC.resolveAddress('al@example.com')).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await nodeB.resolveAddress('al@example.com')).toBeNull();
    } finally {
      await nodeB.close();
      await nodeC.close();
      await cleanup();
    }
  });

  it('serves Bayes totals from memory until a learn through the same node changes them', async () => {
    const tracker = new TableStatements();
    const { store: nodeA, cleanup } = await keyspace.freshStore({ bayesTotalsCacheMs: 60_000, requestTracker: tracker });
    const nodeB = await otherNode({ bayesTotalsCacheMs: 0 });
    try {
      const learn = (store: CassandraMessageStore, text: string) =>
        store.bayesLearn({ scopes: ['global'], sha256: sha256Hex(Buffer.from(text)), tokens: ['cheap', text], label: 'spam' });
      expect(await nodeA.bayesTotals('global')).toEqual({ spam: 0, ham: 0 });
      await learn(nodeB, 'one');
      // Another node's learn: nodeA's totals lag (its token counts, never read before, do not),
      // nodeB's are current.
      expect(await nodeA.bayesTotals('global')).toEqual({ spam: 0, ham: 0 });
      expect((await nodeA.bayesLookup('global', ['cheap'])).get('cheap')).toEqual({ spam: 1, ham: 0 });
      expect(await nodeB.bayesTotals('global')).toEqual({ spam: 1, ham: 0 });
      expect(tracker.count('bayes_totals')).toBe(1);
      // A learn through nodeA itself is seen by nodeA at once.
      await learn(nodeA, 'two');
      expect(await nodeA.bayesTotals('global')).toEqual({ spam: 2, ham: 0 });
    } finally {
      await nodeB.close();
      await cleanup();
    }
  });

  it('reads a message\'s tokens in a few packed requests, then from memory until a learn changes them', async () => {
    const tracker = new TableStatements();
    const { store: nodeA, cleanup } = await keyspace.freshStore({ bayesTokensCacheMs: 60_000, requestTracker: tracker });
    const nodeB = await otherNode();
    const nodeC = await otherNode({ bayesTokensCacheMs: 300 });
    try {
      const learned = Array.from({ length: 240 }, (_, i) => `word${i}`);
      const tokens = [...learned, ...Array.from({ length: 60 }, (_, i) => `never${i}`)];
      const learn = (store: CassandraMessageStore, text: string, words: string[]) =>
        store.bayesLearn({ scopes: ['global'], sha256: sha256Hex(Buffer.from(text)), tokens: words, label: 'spam' });
      await learn(nodeB, 'one', learned);
      const expected = new Map(learned.map((t) => [t, { spam: 1, ham: 0 }]));
      for (const node of [nodeA, nodeC]) expect(await node.bayesLookup('global', tokens)).toEqual(expected);
      // 300 tokens fall in some 180 of the scope's 256 partitions: one read each, before.
      const reads = tracker.count('bayes_tokens');
      expect(reads).toBeGreaterThan(0);
      expect(reads).toBeLessThanOrEqual(20);
      expect(await nodeA.bayesLookup('global', tokens)).toEqual(expected);
      expect(tracker.count('bayes_tokens')).toBe(reads);
      // Another node's learn: seen after bayesTokensCacheMs (nodeC), not before (nodeA).
      await learn(nodeB, 'two', ['word0']);
      expect((await nodeA.bayesLookup('global', ['word0'])).get('word0')).toEqual({ spam: 1, ham: 0 });
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect((await nodeC.bayesLookup('global', ['word0'])).get('word0')).toEqual({ spam: 2, ham: 0 });
      // A learn through nodeA itself: seen by nodeA at once, an unknown token included.
      await learn(nodeA, 'three', ['word1', 'never0']);
      const now = await nodeA.bayesLookup('global', ['word0', 'word1', 'never0']);
      expect([now.get('word0'), now.get('word1'), now.get('never0')]).toEqual([{ spam: 1, ham: 0 }, { spam: 2, ham: 0 }, { spam: 1, ham: 0 }]);
      // An unlearn decrements from Cassandra's counts, not from what nodeA keeps.
      await nodeA.bayesLearn({ scopes: ['global'], sha256: sha256Hex(Buffer.from('two')), tokens: ['word0'], label: null });
      expect((await nodeA.bayesLookup('global', ['word0'])).get('word0')).toEqual({ spam: 1, ham: 0 });
    } finally {
      await nodeB.close();
      await nodeC.close();
      await cleanup();
    }
  });

  it('writes a folder name row once per mailbox and folder, and again for a new mailbox of the same address', async () => {
    const tracker = new TableStatements();
    const { store, cleanup } = await keyspace.freshStore({ requestTracker: tracker });
    try {
      await store.addDomain('example.com');
      const box = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      for (let i = 0; i < 3; i++) await store.deliver(makeDelivery(box.id));
      await store.deliver(makeDelivery(box.id, { folder: 'Junk' }));
      expect(tracker.count('mailbox_folders', 'INSERT')).toBe(2);
      expect((await store.listFolders(box.id)).map((f) => [f.folder, f.messages])).toEqual([['INBOX', 3], ['Junk', 1]]);
      await store.removeMailbox('alice@example.com');
      const again = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      await store.deliver(makeDelivery(again.id));
      expect((await store.listFolders(again.id)).map((f) => [f.folder, f.messages])).toEqual([['INBOX', 1]]);
    } finally {
      await cleanup();
    }
  });
});
