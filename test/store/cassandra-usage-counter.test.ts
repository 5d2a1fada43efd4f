import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CassandraSession } from '../../src/store/cassandra/cassandra-session.js';
import { UsageCounter } from '../../src/store/cassandra/usage-counter.js';
import { cassandraContactPoint, cassandraDataCenter, TestKeyspace } from '../helpers/cassandra.js';

/** The mailbox usage counter's group commit, against a real Cassandra. */
const keyspace = new TestKeyspace();

// The driver checks `instanceof` its own RequestTracker class, which its typings only declare.
const TrackerBase = (cassandra.tracker as unknown as { RequestTracker: new () => object }).RequestTracker;

/** Counts the requests (a batch is one) that touch mailbox_usage. */
class UsageRequests extends TrackerBase implements cassandra.tracker.RequestTracker {
  count = 0;
  onSuccess(_h: unknown, query: unknown): void {
    const text = Array.isArray(query) ? (query as { query: string }[]).map((q) => q.query).join(';') : String(query);
    if (text.includes('.mailbox_usage ')) this.count++;
  }
  onError(): void {}
  shutdown(): void {}
}

let session: CassandraSession;
const tracker = new UsageRequests();

beforeAll(async () => {
  await keyspace.create();
  session = await CassandraSession.connect({
    contactPoints: [cassandraContactPoint()],
    localDataCenter: cassandraDataCenter(),
    keyspace: keyspace.keyspace,
    consistency: 'LOCAL_QUORUM',
    serialConsistency: 'LOCAL_SERIAL',
    requestTimeoutMs: 30_000,
    requestTracker: tracker,
  });
}, 120_000);
afterAll(async () => {
  await session?.shutdown();
  await keyspace.drop();
}, 60_000);

async function usageOf(mailboxId: string): Promise<number> {
  const row = (await session.execute(`SELECT bytes FROM ${session.table('mailbox_usage')} WHERE mailbox_id = ?`, [mailboxId])).first();
  return row ? Number(row.get('bytes')) : 0;
}

describe('Cassandra mailbox usage: group commit of counter updates', () => {
  it('counts every add exactly, and adds made while an update is in flight share one request', async () => {
    const counter = new UsageCounter(session);
    const boxes = ['box-a', 'box-b', 'box-c'];
    const before = tracker.count;
    // 60 deliveries at once: the first goes alone, the other 59 wait for it and go as one batch.
    await Promise.all(Array.from({ length: 60 }, (_, i) => counter.add(boxes[i % 3], 100 + i)));
    expect(tracker.count - before).toBe(2);
    const expected = boxes.map((_, b) => Array.from({ length: 20 }, (_, k) => 100 + 3 * k + b).reduce((x, y) => x + y, 0));
    expect(await Promise.all(boxes.map(usageOf))).toEqual(expected);
  });

  it('fails every add of an update that fails, counts none of them, and goes on with the next', async () => {
    const counter = new UsageCounter(session);
    const first = counter.add('box-f', 10);
    // Gathered into the second update with the good one; a text column refuses a number.
    const bad = counter.add(42 as unknown as string, 5);
    const sameGroup = counter.add('box-g', 7);
    await first;
    await expect(bad).rejects.toThrow();
    await expect(sameGroup).rejects.toThrow();
    await counter.add('box-g', 3);
    expect(await usageOf('box-f')).toBe(10);
    expect(await usageOf('box-g')).toBe(3);
  });
});
