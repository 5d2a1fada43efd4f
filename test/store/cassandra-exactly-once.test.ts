import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { CassandraMessageStore } from '../../src/store/cassandra/cassandra-message-store.js';
import { OUTBOX_SEAL_AFTER_MS } from '../../src/store/cassandra/outbox-queue.js';
import { TestKeyspace, testStoreOptions } from '../helpers/cassandra.js';
import { makeDelivery, rawMessage } from './delivery-fixture.js';

/**
 * Exactly-once delivery on Cassandra across nodes (two store instances, each its own connection
 * pool, as two Hermod nodes have), and the outbox following a delivery that a retry completes
 * long after its first attempt.
 */
const keyspace = new TestKeyspace();

beforeAll(() => keyspace.create(), 120_000);
afterAll(() => keyspace.drop(), 60_000);

/** Makes the next listing-row batch of `store` fail, as a coordinator timeout would. */
function failNextListing(store: CassandraMessageStore): () => void {
  const client = (store as unknown as { state: { session: { client: cassandra.Client } } }).state.session.client;
  const batch = client.batch.bind(client);
  client.batch = ((queries: { query: string }[], ...rest: unknown[]) =>
    queries.some((q) => q.query.includes('INSERT INTO') && q.query.includes('entries_by_folder'))
      ? Promise.reject(new Error('simulated timeout'))
      : (batch as (...a: unknown[]) => unknown)(queries, ...rest)) as typeof client.batch;
  return () => {
    client.batch = batch;
  };
}

describe('Cassandra exactly-once across nodes', () => {
  it('leaves one entry when two nodes deliver the same bytes to one mailbox at once', async () => {
    const { store: nodeA, cleanup } = await keyspace.freshStore();
    const nodeB = new CassandraMessageStore(testStoreOptions(keyspace.keyspace));
    await nodeB.init();
    try {
      await nodeA.addDomain('example.com');
      const box = await nodeA.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      const rounds = 12;
      const raws = Array.from({ length: rounds }, () => rawMessage());
      for (const raw of raws) {
        const [a, b] = await Promise.all([
          nodeA.deliver(makeDelivery(box.id, { raw })),
          nodeB.deliver(makeDelivery(box.id, { raw })),
        ]);
        expect(a.entryId).toBe(b.entryId);
        expect([a.duplicate, b.duplicate].filter((d) => !d)).toHaveLength(1);
      }
      const entries = await nodeB.listEntries({ mailboxId: box.id, limit: 100 });
      expect(entries).toHaveLength(rounds);
      expect(new Set(entries.map((e) => e.sha256)).size).toBe(rounds);
      // One change per message for the indexer (two attempts filing in different minutes would
      // queue it twice: the index keeps one document at one version either way).
      const pending = await nodeA.pendingOutbox(100);
      expect(new Set(pending.map((i) => i.entryId))).toEqual(new Set(entries.map((e) => e.id)));
      const sizes = raws.map((raw) => Buffer.byteLength(makeDelivery(box.id, { raw }).prependHeaders) + raw.length);
      expect(await nodeA.mailboxUsage(box.id)).toBe(sizes.reduce((x, y) => x + y, 0));
      // A later retry on either node is answered as already delivered.
      expect(await nodeB.deliver(makeDelivery(box.id, { raw: raws[0] }))).toEqual({ entryId: entries[rounds - 1].id, duplicate: true });
    } finally {
      await nodeB.close();
      await cleanup();
    }
  });

  it('leaves one entry when the duplicate check of both nodes found nothing before they deliver', async () => {
    const { store: nodeA, cleanup } = await keyspace.freshStore();
    const nodeB = new CassandraMessageStore(testStoreOptions(keyspace.keyspace));
    await nodeB.init();
    try {
      await nodeA.addDomain('example.com');
      const box = await nodeA.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      // At once: both checks see nothing, both deliver.
      const raw = rawMessage();
      const delivery = makeDelivery(box.id, { raw });
      expect(await Promise.all([nodeA.findDelivered(box.id, delivery.sha256), nodeB.findDelivered(box.id, delivery.sha256)])).toEqual([null, null]);
      const [a, b] = await Promise.all([nodeA.deliver(makeDelivery(box.id, { raw })), nodeB.deliver(makeDelivery(box.id, { raw }))]);
      expect(a.entryId).toBe(b.entryId);
      expect([a.duplicate, b.duplicate].filter((d) => !d)).toHaveLength(1);
      // One after the other: B checked before A committed, and delivers after.
      const late = makeDelivery(box.id);
      expect(await nodeB.findDelivered(box.id, late.sha256)).toBeNull();
      const first = await nodeA.deliver(late);
      expect(await nodeB.deliver(late)).toEqual({ entryId: first.entryId, duplicate: true });
      const entries = await nodeA.listEntries({ mailboxId: box.id, limit: 10 });
      expect(entries.map((e) => e.id).sort()).toEqual([a.entryId, first.entryId].sort());
      const size = (d: typeof late) => Buffer.byteLength(d.prependHeaders) + d.raw.length;
      expect(await nodeA.mailboxUsage(box.id)).toBe(size(delivery) + size(late));
    } finally {
      await nodeB.close();
      await cleanup();
    }
  });

  it('completes on another node a delivery whose first node failed half-way', async () => {
    const { store: nodeA, cleanup } = await keyspace.freshStore();
    const nodeB = new CassandraMessageStore(testStoreOptions(keyspace.keyspace));
    await nodeB.init();
    try {
      await nodeA.addDomain('example.com');
      const box = await nodeA.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      const delivery = makeDelivery(box.id);
      const restore = failNextListing(nodeA);
      await expect(nodeA.deliver(delivery)).rejects.toBeInstanceOf(StoreError);
      restore();
      const retried = await nodeB.deliver(delivery);
      expect(retried.duplicate).toBe(true); // node A's claim is the entry
      expect(await nodeA.listEntries({ mailboxId: box.id, limit: 10 })).toMatchObject([{ id: retried.entryId }]);
      expect(await nodeA.mailboxUsage(box.id)).toBe(Buffer.byteLength(delivery.prependHeaders) + delivery.raw.length);
      expect(await nodeA.deliver(delivery)).toEqual({ entryId: retried.entryId, duplicate: true });
    } finally {
      await nodeB.close();
      await cleanup();
    }
  });
});

describe('Cassandra outbox under a driven clock', () => {
  it('indexes a delivery completed by a retry after the minute of its claim was sealed', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 30);
    const { store, cleanup } = await keyspace.freshStore({ clock: () => now });
    try {
      await store.addDomain('example.com');
      const box = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      const delivery = makeDelivery(box.id);
      // The first attempt claims at 12:00:30 and fails before its outbox item is written.
      const restore = failNextListing(store);
      await expect(store.deliver(delivery)).rejects.toBeInstanceOf(StoreError);
      restore();
      // The indexer keeps polling; well past the seal delay, the 12:00 bucket is sealed.
      now += OUTBOX_SEAL_AFTER_MS + 5 * 60_000;
      expect(await store.pendingOutbox(10)).toEqual([]);
      // The MTA's retry completes the delivery now: its item must be where the indexer reads.
      const { entryId } = await store.deliver(delivery);
      const items = await store.pendingOutbox(10);
      expect(items.map((i) => [i.entryId, i.op])).toEqual([[entryId, 'upsert']]);
      expect(await store.outboxLength()).toBe(1);
      await store.ackOutbox(items.map((i) => i.seq));
      expect(await store.outboxLength()).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
