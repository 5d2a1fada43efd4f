/**
 * `hermod migrate-data` as a subprocess: an embedded installation (SQLite store) is copied to
 * Cassandra with search rebuilt in Elasticsearch (and, as a quick check of the same code, to a
 * second SQLite store with FTS5). The first run is interrupted after 3 entries and resumed; the
 * copy keeps ids, arrival times, folders, tags, ledgers and password hashes, is verified by counts
 * and checksums, and searches on the target find the same entries as on the source.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import { Indexer } from '../../src/search/indexer.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { openServices, type HermodServices } from '../../src/services.js';
import type { MailboxEntry } from '../../src/store/types.js';
import { cassandraContactPoint, cassandraDataCenter, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { elasticsearchUrl, uniquePrefix } from '../helpers/elasticsearch.js';
import { CORPUS, readFixture } from '../search/search-corpus.js';
import { seedMessages } from './seed-store.js';
import { runCli, tempDir, writeFile } from './run-cli.js';

const log = pino({ level: 'silent' });
const HASH = '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';

/** Opens the services of a config file, runs `fn`, closes them. */
async function withConfig<T>(file: string, fn: (s: HermodServices) => Promise<T>): Promise<T> {
  const services = await openServices(loadConfig({ file, env: {} }), log);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** Every entry of every mailbox, oldest last, as the fields a copy must keep. */
async function snapshot(s: HermodServices): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const box of await s.store.listMailboxes()) {
    const entries: MailboxEntry[] = await s.store.listEntries({ mailboxId: box.id, limit: 100 });
    for (const e of entries) {
      out.push([box.id, box.address, e.id, e.receivedAt.toISOString(), e.folder, e.tags, e.sha256, e.size, await s.store.getLedger(e.id)]);
    }
  }
  return out;
}

/** The embedded source: 6 fixtures for alice (one moved, one re-tagged), 3 for bob, alias and password. */
async function seedSource(s: HermodServices): Promise<void> {
  await s.store.addDomain('example.org');
  const alice = await s.store.addMailbox({ address: 'alice@example.org', aliases: ['a@example.org'], quotaBytes: 0 });
  const bob = await s.store.addMailbox({ address: 'bob@example.org', quotaBytes: 1 << 20 });
  await s.store.setPassword('alice@example.org', HASH);
  const fixtures = CORPUS.filter((c) => c.mailboxId === 'mbx-a');
  const ledger = [{ plugin: 'spam', stage: 'message', verdict: 'continue', score: 1.5, reason: 'heuristics', durationMs: 2.5, details: { b: 1, a: [2] } }];
  const ids = await seedMessages(s.store, alice, await Promise.all(fixtures.map(async (c) => ({ raw: await readFixture(c.fixture), tags: c.tags, ledger }))));
  await seedMessages(s.store, bob, [0, 1, 2].map((i) => ({ raw: `Subject: bob ${i}\n\nkumquat ${i}\n` })));
  await s.store.moveEntry(ids[1], 'Archive');
  await s.store.updateClassification(ids[2], { tags: ['Travel'], importance: 4 });
  await new Indexer({ store: s.store, index: s.search, log }).drainAll();
}

describe.each(['cassandra', 'sqlite'] as const)('hermod migrate-data --from sqlite --to %s', (to) => {
  const tmp = tempDir('hermod-migrate-');
  const keyspace = uniqueKeyspace('migrate');
  const prefix = uniquePrefix('migrate');
  let sourceFile: string;
  let targetFile: string;
  const cli = (...args: string[]) =>
    runCli(['-c', sourceFile, 'migrate-data', '--from', 'sqlite', '--to', to, '--config-to', targetFile, ...args], {}, 90_000);

  beforeAll(async () => {
    sourceFile = writeFile(tmp.dir, 'source.yaml', `dataDir: ${JSON.stringify(`${tmp.dir}/source`)}\n`);
    const target =
      to === 'cassandra'
        ? [
            `dataDir: ${JSON.stringify(`${tmp.dir}/target`)}`,
            `store: { driver: cassandra, cassandra: { contactPoints: [${JSON.stringify(cassandraContactPoint())}], ` +
              `localDataCenter: ${cassandraDataCenter()}, keyspace: ${keyspace} } }`,
            `search: { driver: elasticsearch, elasticsearch: { nodes: [${JSON.stringify(elasticsearchUrl())}], ` +
              `indexPrefix: ${prefix}, replicas: 0, refreshIntervalMs: 100 } }`,
          ]
        : [`dataDir: ${JSON.stringify(`${tmp.dir}/target`)}`];
    targetFile = writeFile(tmp.dir, 'target.yaml', target.join('\n') + '\n');
    await withConfig(sourceFile, seedSource);
    // Opening the target once creates the keyspace and its tables (the slow part) before the CLI runs.
    await withConfig(targetFile, async () => undefined);
  }, 120_000);
  afterAll(async () => {
    if (to === 'cassandra') {
      const session = await testSession(keyspace);
      await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await session.shutdown();
      const index = new ElasticsearchSearchIndex({ nodes: [elasticsearchUrl()], indexPrefix: prefix });
      await index.init();
      await index.drop();
      await index.close();
    }
    tmp.cleanup();
  });

  it('stops after 3 entries with its checkpoint saved, then resumes, verifies and rebuilds search', async () => {
    const first = await cli('--batch-size', '2', '--stop-after', '3');
    expect(first.stderr).toMatch(/migrate-data stopped after copying 3 entries; progress saved in .*checkpoints/);
    expect(first.code).toBe(1);

    const second = await cli('--batch-size', '2', '--json');
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const verdict = JSON.parse(second.stdout);
    expect(verdict).toMatchObject({ ok: true, domains: { source: 1, target: 1, missing: [] }, reindexed: 9 });
    expect(verdict.mailboxes.map((m: { address: string; entries: unknown }) => [m.address, m.entries])).toEqual([
      ['alice@example.org', { source: 6, target: 6 }],
      ['bob@example.org', { source: 3, target: 3 }],
    ]);
    for (const m of verdict.mailboxes) expect(m.sha256.target).toBe(m.sha256.source);
  }, 120_000);

  it('keeps ids, times, folders, tags, ledgers and passwords; the target finds what the source finds', async () => {
    const rows = await withConfig(sourceFile, snapshot);
    expect(rows).toHaveLength(9);
    await withConfig(targetFile, async (t) => {
      expect(await snapshot(t)).toEqual(rows);
      expect(await t.store.getPasswordHash('a@example.org')).toBe(HASH);
      expect(await t.store.outboxLength()).toBe(0);
      const alice = (await t.store.resolveAddress('alice@example.org'))!;
      for (const query of ['budget', 'folder:archive', 'tag:travel', 'from:müller', 'has:attachment', '']) {
        const here = await t.search.search(alice.id, parseSearchQuery(query), 50);
        const there = await withConfig(sourceFile, (s) => s.search.search(alice.id, parseSearchQuery(query), 50));
        expect(here.map((h) => h.entryId)).toEqual(there.map((h) => h.entryId));
      }
    });
  }, 120_000);

  it('is a no-op when run again, and the target index matches its store', async () => {
    const again = await cli();
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/verified: 1 domain\(s\), 2 mailbox\(es\), 9 entries: counts and checksums match/);
    const verify = await runCli(['-c', targetFile, 'index', 'verify'], {}, 60_000);
    expect(verify.code).toBe(0);
  }, 120_000);
});
