/**
 * Index follows store after an outage, with a real backlog: a real Hermod (Cassandra store, then
 * the embedded SQLite store; Elasticsearch index) whose only way to Elasticsearch is a proxy this
 * test cuts. While it is cut,
 * LMTP deliveries still get 250 and the outbox fills; once it is restored, the indexer must drain
 * the backlog in bulk requests, at least as fast as it indexes live deliveries, and `index verify`
 * must show nothing missing, stale or orphaned.
 *
 * The shared servers are never stopped (only this Hermod loses its way to Elasticsearch), so this
 * is an ordinary test file. Throughput is printed, not asserted: the machine is shared.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import { hasDrift, measureDrift } from '../../src/search/index-drift.js';
import type { Mailbox } from '../../src/store/types.js';
import { cassandraStoreSection, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { elasticsearchUrl, uniquePrefix } from '../helpers/elasticsearch.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** Each message goes to these mailboxes (one LMTP transaction, one entry and outbox item each). */
const RECIPIENTS = ['alice@example.test', 'bob@example.test', 'carol@example.test', 'dave@example.test'];
/** Entries delivered with Elasticsearch reachable: the indexer's normal rate. */
const LIVE = 300;
/** Entries delivered while Elasticsearch is cut off: the backlog. */
const BACKLOG = 1600;
/** LMTP sessions delivering at once. */
const SESSIONS = 8;
/** The indexer's back-off cap (IndexerOptions.maxBackoffMs, default). */
const BACKOFF_CAP_MS = 2000;

type LogRecord = Record<string, unknown> & { time: number; msg: string };

/**
 * Delivers messages [from, to) to every recipient over SESSIONS sessions; resolves to every DATA
 * reply code (one per recipient).
 */
async function deliverRange(port: number, from: number, to: number): Promise<number[]> {
  const codes: number[] = [];
  let next = from;
  const session = async (): Promise<void> => {
    while (next < to) {
      const i = next++;
      const result = await lmtpTransaction(port, {
        from: 'bob@remote.test',
        to: RECIPIENTS,
        message: sampleMessage(`catch-up ${i}`, `Backlog message ${i}: quince.`),
      });
      codes.push(...result.data.map((reply) => reply.code));
    }
  };
  await Promise.all(Array.from({ length: SESSIONS }, session));
  return codes;
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 200): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Bulk requests and documents Elasticsearch itself counted on the index (one primary shard). */
async function bulkStats(es: Client, index: string): Promise<{ requests: number; documents: number }> {
  const stats = await es.indices.stats({ index, metric: ['bulk', 'indexing'] });
  const primaries = stats._all.primaries as { bulk?: { total_operations: number }; indexing?: { index_total: number } };
  return { requests: primaries.bulk?.total_operations ?? 0, documents: primaries.indexing?.index_total ?? 0 };
}

const rate = (items: number, ms: number): number => Math.round((items * 1000) / ms);

/** One indexer batch as its log line gives it: size and time per step. */
function batchLine(record: LogRecord): string {
  const ms = record.ms as Record<string, number>;
  return `    batch of ${record.items as number}: read ${ms.read} + prepare ${ms.prepare} + write ${ms.write} + ack ${ms.ack} ms`;
}

const keyspace = uniqueKeyspace('catchup');

/** The stores the outbox lives in: the distributed one, and the embedded one. */
const STORES: { name: string; keyspace?: string; config: Record<string, unknown> }[] = [
  {
    name: 'Cassandra',
    keyspace,
    config: cassandraStoreSection(keyspace),
  },
  { name: 'SQLite', config: { driver: 'sqlite' } },
];

describe.each(STORES)('Index catch-up after Elasticsearch is cut off from a $name-backed Hermod', (store) => {
  const prefix = uniquePrefix('catchup');
  const es = new Client({ node: elasticsearchUrl() });
  let proxy: TcpProxy;
  let h: Harness;
  let mailboxes: Mailbox[];

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(elasticsearchUrl());
    h = await startHermod({
      plugins: [],
      store: store.config,
      // The indexer's defaults (search.pollMs, search.batchSize) and the default refresh interval.
      search: {
        driver: 'elasticsearch',
        elasticsearch: { nodes: [proxy.url], indexPrefix: prefix, replicas: 0, requestTimeoutMs: 5000 },
      },
    }, RECIPIENTS.map((address) => ({ address })));
    mailboxes = await Promise.all(RECIPIENTS.map(async (address) => (await h.server.services.store.resolveAddress(address))!));
  });

  afterAll(async () => {
    proxy?.resume();
    await h?.stop();
    await proxy?.close();
    const index = new ElasticsearchSearchIndex({ nodes: [elasticsearchUrl()], indexPrefix: prefix });
    await index.init();
    await index.drop();
    await index.close();
    await es.close();
    if (!store.keyspace) return;
    const session = await testSession(store.keyspace);
    await session.ddl(`DROP KEYSPACE IF EXISTS ${store.keyspace}`);
    await session.shutdown();
  });

  it('drains the backlog in bulk requests at no less than the live rate, with the back-off capped', { timeout: 240_000 }, async () => {
    const { store: messages, search } = h.server.services;
    const logs = h.logs as LogRecord[];
    const indexName = (search as ElasticsearchSearchIndex).indices.index;
    const caughtUp = async (total: number): Promise<boolean> =>
      (await messages.outboxLength()) === 0 && (await bulkStats(es, indexName)).documents >= total;

    // The normal rate: live deliveries, the indexer keeping up with them.
    const liveStarted = Date.now();
    const perMessage = RECIPIENTS.length;
    expect(await deliverRange(h.lmtpPort, 0, LIVE / perMessage)).toEqual(Array(LIVE).fill(250));
    const liveDeliveredMs = Date.now() - liveStarted;
    await waitUntil('the live deliveries are indexed', 60_000, () => caughtUp(LIVE));
    const liveIndexedMs = Date.now() - liveStarted;

    // The outage: every delivery still gets its 250, the outbox fills.
    proxy.cut();
    const cutAt = Date.now();
    expect(await deliverRange(h.lmtpPort, LIVE / perMessage, (LIVE + BACKLOG) / perMessage)).toEqual(Array(BACKLOG).fill(250));
    const backlogDeliveredMs = Date.now() - cutAt;
    // Long enough down for the back-off to reach its cap several times over.
    await new Promise((r) => setTimeout(r, Math.max(0, 4 * BACKOFF_CAP_MS - backlogDeliveredMs)));
    const backlog = await messages.outboxLength();
    expect(backlog).toBe(BACKLOG);
    const before = await bulkStats(es, indexName);

    // Restored: time until the outbox is empty, then until `index verify` shows no drift.
    proxy.resume();
    const restoredAt = Date.now();
    await waitUntil('the outbox drains', 180_000, async () => (await messages.outboxLength()) === 0);
    const drainedMs = Date.now() - restoredAt;
    let report = await measureDrift(messages, search, mailboxes, false);
    await waitUntil('index verify shows no drift', 30_000, async () => {
      report = await measureDrift(messages, search, mailboxes, false);
      return !hasDrift(report);
    }, 500);
    const verifiedMs = Date.now() - restoredAt;
    const after = await bulkStats(es, indexName);

    const each = (LIVE + BACKLOG) / perMessage;
    expect(report.mailboxes).toEqual(
      mailboxes.map((m) => expect.objectContaining({ mailboxId: m.id, entries: each, indexed: each, missing: [], stale: [], orphaned: [] })),
    );
    expect(report.outboxPending).toBe(0);

    // The indexer's own record of its waits while cut off: never above the cap.
    const backoffs = logs.filter((r) => r.msg === 'indexer: backing off' && r.time >= cutAt && r.time <= restoredAt);
    const delays = backoffs.map((r) => r.retryInMs as number);
    // At least 4 caps long, the outage leaves room for 3 retries or more, unless each attempt
    // itself takes seconds (as when the client library added its own back-off of 1-6 s).
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...delays)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    // Attempts as seen on the wire (each retried by the client itself): the widest gap.
    const attempts = [cutAt, ...proxy.refusedAt, restoredAt];
    const widestGapMs = Math.max(...attempts.slice(1).map((t, i) => t - attempts[i]));

    // The drain, in the indexer's batches and in Elasticsearch's own count of bulk requests.
    const drainLogs = logs.filter((r) => r.msg === 'indexer: batch applied' && r.time >= restoredAt);
    const drains = drainLogs.map((r) => r.items as number);
    const bulkRequests = after.requests - before.requests;
    const bulkDocuments = after.documents - before.documents;
    expect(bulkDocuments).toBeGreaterThanOrEqual(BACKLOG);
    expect(bulkDocuments / bulkRequests).toBeGreaterThan(1);
    expect(Math.max(...drains)).toBeGreaterThan(1);

    const liveRate = rate(LIVE, liveIndexedMs);
    const drainRate = rate(backlog, drainedMs);
    console.log(
      [
        `${store.name} store`,
        `  live: ${LIVE} delivered in ${liveDeliveredMs} ms (${rate(LIVE, liveDeliveredMs)} entries/s), indexed ${liveIndexedMs} ms after the first (normal rate ${liveRate} docs/s)`,
        `  outage: ${backlog} outbox items left by ${BACKLOG} deliveries (${BACKLOG / perMessage} messages x ${perMessage} recipients) in ${backlogDeliveredMs} ms (${rate(BACKLOG, backlogDeliveredMs)} entries/s); ` +
          `indexer retries ${delays.length}, largest recorded back-off ${Math.max(...delays)} ms, widest gap between connection attempts ${widestGapMs} ms`,
        `  catch-up: outbox empty ${drainedMs} ms after the restore, index verify 0 missing/stale/orphaned after ${verifiedMs} ms; ` +
          `drain rate ${drainRate} docs/s = ${(drainRate / liveRate).toFixed(2)} x the normal rate`,
        `  drain batches: [${drains.join(', ')}]; Elasticsearch counted ${bulkRequests} bulk requests for ${bulkDocuments} documents (${(bulkDocuments / bulkRequests).toFixed(0)} per bulk)`,
        ...drainLogs.map(batchLine),
      ].join('\n'),
    );
  });
});
