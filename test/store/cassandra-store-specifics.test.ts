import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, StoreError } from '../../src/errors.js';
import { CassandraMessageStore } from '../../src/store/cassandra/cassandra-message-store.js';
import { consistencyCode } from '../../src/store/cassandra/cassandra-session.js';
import { OutboxQueue } from '../../src/store/cassandra/outbox-queue.js';
import type { Mailbox } from '../../src/store/types.js';
import { TestKeyspace, testStoreOptions } from '../helpers/cassandra.js';
import { expectBatchedReads } from './batched-reads.js';
import { makeDelivery, rawMessage, sha256Hex } from './delivery-fixture.js';

/** Behaviour only the Cassandra adapter has: chunked blobs, claims, consistency, outbox buckets. */
const keyspace = new TestKeyspace();

beforeAll(() => keyspace.create(), 120_000);
afterAll(() => keyspace.drop(), 60_000);

async function withMailbox(store: CassandraMessageStore): Promise<Mailbox> {
  await store.addDomain('example.com');
  return store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
}

// The driver checks `instanceof` its own RequestTracker class, which its typings only declare.
const TrackerBase = (cassandra.tracker as unknown as { RequestTracker: new () => object }).RequestTracker;

/** Records the consistency levels of every request the driver sends. */
class ConsistencyRecorder extends TrackerBase implements cassandra.tracker.RequestTracker {
  readonly seen: { query: string; consistency: number; serial: number }[] = [];
  onSuccess(_h: unknown, query: unknown, _p: unknown, options: cassandra.ExecutionOptions): void {
    this.record(query, options);
  }
  onError(_h: unknown, query: unknown, _p: unknown, options: cassandra.ExecutionOptions): void {
    this.record(query, options);
  }
  shutdown(): void {}
  private record(query: unknown, options: cassandra.ExecutionOptions): void {
    const text = typeof query === 'string' ? query : 'BATCH';
    this.seen.push({ query: text, consistency: options.getConsistency(), serial: options.getSerialConsistency() });
  }
}

describe('CassandraMessageStore specifics', () => {
  it('stores a multi-MiB message in chunks and reads it back byte-exact', async () => {
    const { store, cleanup } = await keyspace.freshStore({ chunkBytes: 256 * 1024 });
    try {
      const box = await withMailbox(store);
      const raw = Buffer.concat([rawMessage(), randomBytes(5 * 1024 * 1024 + 123)]);
      const delivery = makeDelivery(box.id, { raw });
      const { entryId } = await store.deliver(delivery);
      const head = (
        await keyspace.raw.execute(`SELECT size, chunk_count FROM ${keyspace.raw.table('messages')} WHERE sha256 = ?`, [
          delivery.sha256,
        ])
      ).first();
      expect(head.get('chunk_count')).toBe(Math.ceil(raw.length / (256 * 1024)));
      expect(Buffer.compare((await store.getRaw(delivery.sha256))!, raw)).toBe(0);
      const full = await store.getFullMessage(entryId);
      expect(Buffer.compare(full!, Buffer.concat([Buffer.from(delivery.prependHeaders), raw]))).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('keeps a message of one chunk in one row, still reads one stored as chunk and head, and removes both', async () => {
    const { store, cleanup } = await keyspace.freshStore({ chunkBytes: 64 * 1024 });
    try {
      const box = await withMailbox(store);
      const rows = async (table: string, sha: string) =>
        (await keyspace.raw.execute(`SELECT sha256 FROM ${keyspace.raw.table(table)} WHERE sha256 = ?`, [sha])).rowLength;
      // Small (in the delivery's first batch) and one full chunk (its own statement beside it).
      for (const size of [3000, 64 * 1024]) {
        const raw = Buffer.concat([rawMessage(), randomBytes(size)]).subarray(0, size);
        const delivery = makeDelivery(box.id, { raw });
        await store.deliver(delivery);
        expect([await rows('messages_whole', delivery.sha256), await rows('messages', delivery.sha256)]).toEqual([1, 0]);
        expect(Buffer.compare((await store.getRaw(delivery.sha256))!, raw)).toBe(0);
      }
      // Written as chunk and head (before messages_whole existed): read and removed there.
      const old = rawMessage();
      const sha = sha256Hex(old);
      await keyspace.raw.execute(`INSERT INTO ${keyspace.raw.table('message_chunks')} (sha256, chunk, data) VALUES (?, 0, ?)`, [sha, old]);
      await keyspace.raw.execute(
        `INSERT INTO ${keyspace.raw.table('messages')} (sha256, size, chunk_count, chunk_bytes, stored_at) VALUES (?, ?, 1, 65536, toTimestamp(now()))`,
        [sha, old.length],
      );
      expect(Buffer.compare((await store.getRaw(sha))!, old)).toBe(0);
      const { entryId } = await store.deliver(makeDelivery(box.id, { raw: old }));
      await store.deleteEntry(entryId);
      expect(await store.getRaw(sha)).toBeNull();
      expect([await rows('messages_whole', sha), await rows('messages', sha)]).toEqual([0, 0]);
    } finally {
      await cleanup();
    }
  });

  it('reads several entries and raw messages at once, small, chunked and missing alike', async () => {
    const { store, cleanup } = await keyspace.freshStore({ chunkBytes: 64 * 1024 });
    try {
      const box = await withMailbox(store);
      const raws = [rawMessage(), rawMessage(), Buffer.concat([rawMessage(), randomBytes(200 * 1024)])];
      await expectBatchedReads(store, box.id, raws, {
        entryId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        sha256s: () => [sha256Hex(Buffer.from('nobody'))],
      });
    } finally {
      await cleanup();
    }
  });

  it('makes one entry from concurrent deliveries of the same bytes, counting the size once', async () => {
    const { store, cleanup } = await keyspace.freshStore();
    try {
      const box = await withMailbox(store);
      const raw = rawMessage();
      const results = await Promise.all(Array.from({ length: 6 }, () => store.deliver(makeDelivery(box.id, { raw }))));
      expect(new Set(results.map((r) => r.entryId)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await store.listEntries({ mailboxId: box.id, limit: 10 })).toHaveLength(1);
      expect(await store.outboxLength()).toBe(1);
      const d = makeDelivery(box.id, { raw });
      expect(await store.mailboxUsage(box.id)).toBe(Buffer.byteLength(d.prependHeaders) + raw.length);
    } finally {
      await cleanup();
    }
  });

  it('completes a delivery that failed half-way when it is retried, with one entry', async () => {
    const { store, cleanup } = await keyspace.freshStore();
    try {
      const box = await withMailbox(store);
      const delivery = makeDelivery(box.id);
      // The first attempt dies after its claim and entry row: the folder listing write fails.
      const client = (store as unknown as { state: { session: { client: cassandra.Client } } }).state.session.client;
      const batch = client.batch.bind(client);
      client.batch = ((queries: { query: string }[], ...rest: unknown[]) =>
        queries.some((q) => q.query.includes('INSERT INTO') && q.query.includes('entries_by_folder'))
          ? Promise.reject(new Error('simulated timeout'))
          : (batch as (...a: unknown[]) => unknown)(queries, ...rest)) as typeof client.batch;
      await expect(store.deliver(delivery)).rejects.toBeInstanceOf(StoreError);
      client.batch = batch;
      expect(await store.listEntries({ mailboxId: box.id, limit: 10 })).toEqual([]);
      expect(await store.outboxLength()).toBe(0);

      const retried = await store.deliver(delivery);
      expect(await store.listEntries({ mailboxId: box.id, limit: 10 })).toMatchObject([{ id: retried.entryId }]);
      expect(await store.outboxLength()).toBe(1);
      expect(await store.deliver(delivery)).toEqual({ entryId: retried.entryId, duplicate: true });
      expect(await store.mailboxUsage(box.id)).toBe(Buffer.byteLength(delivery.prependHeaders) + delivery.raw.length);
    } finally {
      await cleanup();
    }
  });

  it('sends every statement at the configured consistency, LWTs at the serial consistency', async () => {
    for (const [consistency, serial] of [
      ['LOCAL_QUORUM', 'LOCAL_SERIAL'],
      ['ONE', 'SERIAL'],
    ] as const) {
      const tracker = new ConsistencyRecorder();
      const { store, cleanup } = await keyspace.freshStore({ consistency, serialConsistency: serial, requestTracker: tracker });
      try {
        const box = await withMailbox(store);
        const { entryId } = await store.deliver(makeDelivery(box.id));
        await store.getFullMessage(entryId);
        await store.moveEntry(entryId, 'Junk');
        const ours = tracker.seen.filter((r) => r.query.includes(keyspace.keyspace) || r.query === 'BATCH');
        expect(ours.length).toBeGreaterThan(10);
        expect(new Set(ours.map((r) => r.consistency))).toEqual(new Set([consistencyCode(consistency)]));
        const lwts = ours.filter((r) => / IF /.test(r.query));
        expect(lwts.length).toBeGreaterThan(0);
        expect(new Set(lwts.map((r) => r.serial))).toEqual(new Set([consistencyCode(serial)]));
      } finally {
        await cleanup();
      }
    }
  });

  it('fails with a StoreError when the consistency cannot be met (THREE on one node)', async () => {
    const store = new CassandraMessageStore(testStoreOptions(keyspace.keyspace, { consistency: 'THREE' }));
    const failure = await store.init().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as Error).message).toMatch(/THREE/);
  });

  it('turns an unreachable cluster and a closed store into StoreErrors', async () => {
    const unreachable = new CassandraMessageStore(
      testStoreOptions(keyspace.keyspace, { contactPoints: ['127.0.0.1:1'], requestTimeoutMs: 1000 }),
    );
    await expect(unreachable.init()).rejects.toBeInstanceOf(StoreError);
    const { store, cleanup } = await keyspace.freshStore();
    await cleanup();
    await expect(store.listDomains()).rejects.toBeInstanceOf(StoreError);
    await expect(store.deliver(makeDelivery('x'))).rejects.toBeInstanceOf(StoreError);
  });

  it('forgets drained outbox buckets and remembers the low-water bucket', async () => {
    const { store, cleanup } = await keyspace.freshStore();
    try {
      const box = await withMailbox(store);
      await store.deliver(makeDelivery(box.id));
      const queue = new OutboxQueue(keyspace.raw);
      const [item] = await queue.pending(10, Date.now());
      await queue.ack([item.seq]);
      const buckets = `SELECT bucket FROM ${keyspace.raw.table('outbox_buckets')}`;
      expect((await keyspace.raw.execute(buckets)).rowLength).toBe(1);
      // Twenty minutes on, the drained bucket is sealed and reads start after it.
      expect(await queue.pending(10, Date.now() + 20 * 60_000)).toEqual([]);
      expect((await keyspace.raw.execute(buckets)).rowLength).toBe(0);
      const low = (await keyspace.raw.execute(`SELECT low_bucket FROM ${keyspace.raw.table('outbox_state')}`)).first();
      expect(Number(low.get('low_bucket'))).toBe(Math.floor(item.version / 60_000_000) + 1);
      expect(await store.outboxLength()).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('finishes a mailbox removal that stopped half-way when it is run again, refusing mail meanwhile', async () => {
    const { store, cleanup } = await keyspace.freshStore();
    try {
      const box = await withMailbox(store);
      const { entryId } = await store.deliver(makeDelivery(box.id));
      const client = (store as unknown as { state: { session: { client: cassandra.Client } } }).state.session.client;
      const execute = client.execute.bind(client);
      client.execute = ((query: string, ...rest: unknown[]) =>
        query.startsWith('DELETE FROM') && query.includes('entries_by_id')
          ? Promise.reject(new Error('simulated timeout'))
          : (execute as (...a: unknown[]) => unknown)(query, ...rest)) as typeof client.execute;
      const failure = await store.removeMailbox('alice@example.com').catch((err: unknown) => err);
      client.execute = execute;
      expect(failure).toBeInstanceOf(StoreError);
      expect((failure as Error).message).toMatch(/alice@example\.com stopped in phase "entries".*run the removal again/);
      // The state is visible, and the address already refuses mail.
      const pending = await keyspace.raw.execute(`SELECT mailbox_id, phase FROM ${keyspace.raw.table('mailbox_removals')}`);
      expect(pending.rows.map((r) => [r.get('mailbox_id'), r.get('phase')])).toEqual([[box.id, 'entries']]);
      expect(await store.resolveAddress('alice@example.com')).toBeNull();

      await store.removeMailbox('ALICE@example.com');
      expect(await store.getEntry(entryId)).toBeNull();
      expect(await store.listMailboxes()).toEqual([]);
      expect((await keyspace.raw.execute(`SELECT * FROM ${keyspace.raw.table('mailbox_removals')}`)).rowLength).toBe(0);
      await expect(store.removeMailbox('alice@example.com')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await cleanup();
    }
  });

  it('keeps the blob of a message another mailbox still holds when one mailbox is removed', async () => {
    const { store, cleanup } = await keyspace.freshStore();
    try {
      const box = await withMailbox(store);
      const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
      const own = makeDelivery(box.id);
      const shared = rawMessage();
      await store.deliver(own);
      await store.deliver(makeDelivery(box.id, { raw: shared }));
      await store.deliver(makeDelivery(bob.id, { raw: shared }));
      await store.removeMailbox('alice@example.com');
      expect(await store.getRaw(own.sha256)).toBeNull();
      expect(await store.getRaw(sha256Hex(shared))).not.toBeNull();
      expect(await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 })).toMatchObject({
        address: 'alice@example.com',
      });
    } finally {
      await cleanup();
    }
  });
});
