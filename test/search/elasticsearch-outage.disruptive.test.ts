/**
 * Index follows store, with the real Elasticsearch process stopped in the middle of a burst of
 * LMTP deliveries: every delivery still gets 250 and is stored; once Elasticsearch is back the
 * indexer catches up on its own, and the index matches the store.
 *
 * This file stops the shared server (scripts/services down elasticsearch), so it is a
 * `*.disruptive.test.ts`: vitest runs it alone, after every other test file (vitest.config.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import { hasDrift, measureDrift } from '../../src/search/index-drift.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import type { Mailbox } from '../../src/store/types.js';
import { elasticsearchUrl, uniquePrefix } from '../helpers/elasticsearch.js';
import { startHermod, sampleMessage, type Harness } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../scripts/services', import.meta.url));
const services = (...args: string[]) => run('bash', [SERVICES, ...args], { timeout: 280_000 });

/** Delivers `count` messages over `parallel` LMTP sessions; resolves to every DATA reply code. */
async function burst(port: number, label: string, count: number, parallel = 4, onEach?: (n: number) => void): Promise<number[]> {
  const codes: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const result = await lmtpTransaction(port, {
        from: 'bob@remote.test',
        to: ['alice@example.test'],
        message: sampleMessage(`${label} ${i}`, `Outage burst ${label} message ${i}: kumquat.`),
      });
      codes.push(...result.data.map((reply) => reply.code));
      onEach?.(codes.length);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return codes;
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Elasticsearch stopped during a burst of deliveries', () => {
  const prefix = uniquePrefix('outage');
  let h: Harness;
  let mailbox: Mailbox;

  beforeAll(async () => {
    await services('up', 'elasticsearch');
    h = await startHermod({
      search: {
        driver: 'elasticsearch',
        pollMs: 50,
        elasticsearch: { nodes: [elasticsearchUrl()], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 200, requestTimeoutMs: 5000 },
      },
    });
    mailbox = (await h.server.services.store.resolveAddress('alice@example.test'))!;
  });
  afterAll(async () => {
    // Whatever happened above, the server comes back for whoever runs next.
    await services('up', 'elasticsearch');
    await h?.stop();
    const index = new ElasticsearchSearchIndex({ nodes: [elasticsearchUrl()], indexPrefix: prefix });
    await index.init();
    await index.drop();
    await index.close();
  });

  it('answers 250 and stores every message, then the index catches up', async () => {
    const { store, search } = h.server.services;
    const indexed = async () => (await search.search(mailbox.id, parseSearchQuery('kumquat'), 500)).length;

    expect(await burst(h.lmtpPort, 'before', 5)).toEqual(Array(5).fill(250));
    await waitUntil('the first 5 are indexed', 30_000, async () => (await indexed()) === 5);

    // The burst: Elasticsearch is stopped after its 10th delivery, while the others go on.
    let stopping: Promise<unknown> | undefined;
    const during = await burst(h.lmtpPort, 'during', 30, 4, (n) => {
      if (n === 10) stopping = services('down', 'elasticsearch');
    });
    const downStarted = Date.now();
    await stopping;
    // And more while it is certainly down.
    const after = await burst(h.lmtpPort, 'down', 25);
    expect([...during, ...after]).toEqual(Array(55).fill(250));
    const stored = await store.listEntries({ mailboxId: mailbox.id, limit: 500 });
    expect(stored).toHaveLength(60);
    await expect(search.search(mailbox.id, parseSearchQuery('kumquat'), 500)).rejects.toMatchObject({
      code: 'HERMOD_SEARCH',
      unavailable: true,
    });
    expect(await store.outboxLength()).toBeGreaterThan(0);

    await services('up', 'elasticsearch');
    const downMs = Date.now() - downStarted;
    const catchUpMs = await waitUntil('the indexer catches up', 120_000, async () => (await indexed()) === 60);
    await waitUntil('the outbox is empty', 30_000, async () => (await store.outboxLength()) === 0);
    const report = await measureDrift(store, search, [mailbox], false);
    expect(hasDrift(report)).toBe(false);
    expect(report.mailboxes[0]).toMatchObject({ entries: 60, indexed: 60 });
    console.log(`elasticsearch down for ${downMs} ms (stop + restart); index caught up ${catchUpMs} ms after it was ready`);
  });
});
