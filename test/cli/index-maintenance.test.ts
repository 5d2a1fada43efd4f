/**
 * `hermod index verify` and `hermod reindex` as subprocesses, on both search engines: drift of
 * every kind is reported, a reindex interrupted after a few entries resumes where it stopped, and
 * afterwards the index matches the store again.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { HermodConfig } from '../../src/config/schema.js';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import { Indexer } from '../../src/search/indexer.js';
import { reindexVersion } from '../../src/search/reindexer.js';
import { openServices, type HermodServices } from '../../src/services.js';
import { elasticsearchUrl, uniquePrefix } from '../helpers/elasticsearch.js';
import { buildCorpus } from '../search/search-corpus.js';
import { seedMessages } from './seed-store.js';
import { runCli, tempDir, writeFile } from './run-cli.js';

const log = pino({ level: 'silent' });

/** The ids drift was made for, per test run. */
interface Seeded {
  alice: string[];
  missing: string;
  stale: string;
}

/** 12 messages for alice, 3 for bob, all indexed; then one missing, one stale, one orphan, one orphaned mailbox. */
async function seed(services: HermodServices): Promise<Seeded> {
  const { store, search } = services;
  await store.addDomain('example.org');
  const alice = await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
  const bob = await store.addMailbox({ address: 'bob@example.org', quotaBytes: 0 });
  const mail = (n: number, who: string) =>
    Array.from({ length: n }, (_, i) => ({
      raw: `From: Sender <s@remote.test>\nTo: ${who}@example.org\nSubject: note ${i} for ${who}\n\nbody ${i} tulip\n`,
      tags: i % 2 ? ['Work'] : [],
    }));
  const aliceIds = await seedMessages(store, alice, mail(12, 'alice'));
  await seedMessages(store, bob, mail(3, 'bob'));
  await new Indexer({ store, index: search, log }).drainAll();

  const [missing, stale] = [aliceIds[3], aliceIds[7]];
  await search.remove([{ entryId: missing, mailboxId: alice.id, version: reindexVersion() }]);
  // Stale: the store moves the entry, and the outbox item is lost before the indexer sees it.
  await store.moveEntry(stale, 'Archive');
  await store.ackOutbox((await store.pendingOutbox(100)).map((item) => item.seq));
  const [doc] = await buildCorpus();
  await search.upsert([
    { ...doc, entryId: 'ghost-1', mailboxId: alice.id, version: 1 },
    { ...doc, entryId: 'ghost-2', mailboxId: 'mbx-gone', version: 1 },
  ]);
  return { alice: aliceIds, missing, stale };
}

describe.each(['sqlite', 'elasticsearch'] as const)('index verify and reindex (search.driver %s)', (driver) => {
  const tmp = tempDir('hermod-reindex-');
  const prefix = uniquePrefix('cli');
  let configFile: string;
  let seeded: Seeded;
  const cli = (...args: string[]) => runCli(['-c', configFile, ...args]);

  beforeAll(async () => {
    const yaml = [
      `dataDir: ${JSON.stringify(tmp.dir)}`,
      `search: { driver: ${driver}, elasticsearch: { nodes: [${JSON.stringify(elasticsearchUrl())}], ` +
        `indexPrefix: ${prefix}, replicas: 0, refreshIntervalMs: 100 } }`,
      '',
    ].join('\n');
    configFile = writeFile(tmp.dir, 'hermod.yaml', yaml);
    const config: HermodConfig = loadConfig({ file: configFile, env: {} });
    const services = await openServices(config, log);
    try {
      seeded = await seed(services);
    } finally {
      await services.close();
    }
  });
  afterAll(async () => {
    if (driver === 'elasticsearch') {
      const index = new ElasticsearchSearchIndex({ nodes: [elasticsearchUrl()], indexPrefix: prefix });
      await index.init();
      await index.drop();
      await index.close();
    }
    tmp.cleanup();
  });

  it('reports missing, stale and orphaned documents of one mailbox, and exits 1', async () => {
    const result = await cli('index', 'verify', '--mailbox', 'alice@example.org', '--json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hermod: index drift: 1 missing, 1 stale, 1 orphaned; repair with hermod reindex --mailbox alice@example.org/);
    const report = JSON.parse(result.stdout);
    expect(report.mailboxes).toHaveLength(1);
    expect(report.mailboxes[0]).toMatchObject({
      address: 'alice@example.org',
      entries: 12,
      indexed: 12,
      missing: [seeded.missing],
      stale: [seeded.stale],
      orphaned: ['ghost-1'],
    });
    expect(report.outboxPending).toBe(0);
  });

  it('finds nothing wrong in a mailbox that matches, and exits 0', async () => {
    const result = await cli('index', 'verify', '--mailbox', 'bob@example.org');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^MAILBOX\s+ENTRIES\s+INDEXED\s+MISSING\s+STALE\s+ORPHANED\nbob@example.org\s+3\s+3\s+0\s+0\s+0\n/);
  });

  it('checks every mailbox by default, including mailboxes only the index knows', async () => {
    const result = await cli('index', 'verify', '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.mailboxes.map((m: { address: string }) => m.address).sort()).toEqual(['alice@example.org', 'bob@example.org']);
    expect(report.orphanedMailboxes).toEqual(['mbx-gone']);
  });

  it('reindex stops after 5 entries with its checkpoint saved, then resumes with the other 7', async () => {
    const first = await cli('reindex', '--mailbox', 'alice@example.org', '--batch-size', '2', '--stop-after', '5');
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/reindex stopped after 5 entries; progress saved in .*checkpoints.*: run the same command again to resume/);
    expect(readdirSync(join(tmp.dir, 'checkpoints'))).toHaveLength(1);
    const still = await cli('index', 'verify', '--mailbox', 'alice@example.org', '--json');
    expect(JSON.parse(still.stdout).mailboxes[0].missing).toEqual([seeded.missing]);

    const second = await cli('reindex', '--mailbox', 'alice@example.org', '--batch-size', '2', '--json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ entries: 7, resumedEntries: 5, removed: 1, stopped: false });
    expect(existsSync(join(tmp.dir, 'checkpoints'))).toBe(true);
    expect(readdirSync(join(tmp.dir, 'checkpoints'))).toHaveLength(0);

    const verify = await cli('index', 'verify', '--mailbox', 'alice@example.org', '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).mailboxes[0]).toMatchObject({ entries: 12, indexed: 12, missing: [], stale: [], orphaned: [] });
    const search = await cli('search', '--mailbox', 'alice@example.org', '--json', 'folder:archive');
    expect(JSON.parse(search.stdout).map((e: { id: string }) => e.id)).toEqual([seeded.stale]);
  });

  it('reindex --all removes mailboxes the store no longer has; the index then matches', async () => {
    const result = await cli('reindex', '--all');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^reindexed 15 entries in 2 mailbox\(es\); removed 1 orphaned document\(s\)\n$/);
    const verify = await cli('index', 'verify');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('outbox: 0 change(s) waiting for the indexer');
  });

  it('refuses reindex without a scope, or with both', async () => {
    for (const args of [['reindex'], ['reindex', '--all', '--mailbox', 'alice@example.org']]) {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('hermod: give --mailbox ADDRESS or --all (one of them)\n');
    }
  });
});
