import { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { SearchIndexError } from '../../src/search/search-error.js';
import { describeSearchIndexContract } from '../contract/search-index.contract.js';
import { elasticsearchUrl, testElasticsearchIndex } from '../helpers/elasticsearch.js';
import { buildCorpus, MAILBOX_A, MAILBOX_B } from './search-corpus.js';

describeSearchIndexContract('Elasticsearch (1 shard)', async () => testElasticsearchIndex());

describeSearchIndexContract('Elasticsearch (3 shards, routed by mailbox)', async () =>
  testElasticsearchIndex({ shards: 3 }),
);

describe('ElasticsearchSearchIndex specifics', () => {
  it('creates the template with explicit mappings, the index and its alias', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      const names = subject.index.indices;
      const client = new Client({ node: elasticsearchUrl() });
      const template = await client.indices.getIndexTemplate({ name: names.template });
      const mappings = template.index_templates[0].index_template.template?.mappings;
      expect(mappings?.dynamic).toBe('strict');
      expect(mappings?.properties?.subject).toMatchObject({ type: 'text', analyzer: 'standard' });
      expect(mappings?.properties?.tags).toMatchObject({ type: 'keyword', normalizer: 'hermod_lowercase' });
      expect(mappings?.properties?.date).toMatchObject({ type: 'date' });
      const alias = await client.indices.getAlias({ name: names.alias });
      expect(Object.keys(alias)).toEqual([names.index]);
      await client.close();
    } finally {
      await subject.cleanup();
    }
  });

  it('folds diacritics and splits on punctuation as FTS5 does', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      await subject.index.upsert(await buildCorpus());
      const ids = async (q: string) => (await subject.index.search(MAILBOX_A, parseSearchQuery(q), 10)).map((h) => h.entryId);
      expect(await ids('cafe geoffnet subject:munchen')).toEqual(['entry-03']);
      expect(await ids('CAFÉ')).toEqual(['entry-03']);
    } finally {
      await subject.cleanup();
    }
  });

  it('keeps a removal beyond index.gc_deletes: a tombstone holds its version', async () => {
    // gc_deletes 0: Elasticsearch forgets a deleted document's version at once.
    const subject = testElasticsearchIndex({ extra: { 'index.gc_deletes': '0ms' } });
    try {
      const { index } = subject;
      await index.init();
      const [doc] = await buildCorpus();
      await index.upsert([{ ...doc, version: 5 }]);
      await index.remove([{ entryId: doc.entryId, mailboxId: doc.mailboxId, version: 6 }]);
      await new Promise((r) => setTimeout(r, 300));
      await index.upsert([{ ...doc, version: 5 }]);
      expect(await index.search(MAILBOX_A, parseSearchQuery('budget'), 10)).toEqual([]);
      expect((await index.versions(MAILBOX_A)).size).toBe(0);
      expect(await index.mailboxIds()).toEqual([]);
      await index.upsert([{ ...doc, version: 7 }]);
      expect((await index.versions(MAILBOX_A)).get(doc.entryId)).toBe(7);
    } finally {
      await subject.cleanup();
    }
  });

  it('reports inventory (folder, tags lower-cased) and mailbox ids', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      await subject.index.upsert(await buildCorpus());
      const inventory = await subject.index.inventory(MAILBOX_A);
      expect(inventory.get('entry-02')).toEqual({ version: 1, folder: 'inbox', tags: ['finance'] });
      expect(inventory.get('entry-04')?.tags).toEqual(['bulk', 'newsletter']);
      expect((await subject.index.mailboxIds()).sort()).toEqual([MAILBOX_A, MAILBOX_B]);
    } finally {
      await subject.cleanup();
    }
  });

  it('splits a large batch into several bulk requests', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      const [doc] = await buildCorpus();
      // 40 documents of ~400 KB: more than one 8 MB bulk body.
      const big = 'budget '.repeat(60_000);
      const docs = Array.from({ length: 40 }, (_, i) => ({ ...doc, entryId: `big-${String(i).padStart(2, '0')}`, body: big }));
      await subject.index.upsert(docs);
      expect((await subject.index.versions(MAILBOX_A)).size).toBe(40);
    } finally {
      await subject.cleanup();
    }
  });

  it('starts while Elasticsearch is unreachable and fails each call with a SearchIndexError', async () => {
    const index = new ElasticsearchSearchIndex({ nodes: ['http://127.0.0.1:9'], indexPrefix: 'hermod-unreachable', requestTimeoutMs: 2000 });
    await index.init();
    const err = await index.search(MAILBOX_A, parseSearchQuery(''), 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SearchIndexError);
    expect(err).toMatchObject({ code: 'HERMOD_SEARCH' });
    await expect(index.upsert(await buildCorpus())).rejects.toBeInstanceOf(SearchIndexError);
    await index.close();
    await expect(index.search(MAILBOX_A, parseSearchQuery(''), 10)).rejects.toMatchObject({ code: 'HERMOD_SEARCH' });
  });

  it('refuses a batch with an invalid document before sending anything', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      const [good, bad] = await buildCorpus();
      await expect(subject.index.upsert([good, { ...bad, date: new Date(Number.NaN) }])).rejects.toBeInstanceOf(SearchIndexError);
      expect((await subject.index.versions(MAILBOX_A)).size).toBe(0);
    } finally {
      await subject.cleanup();
    }
  });

  it('names the document Elasticsearch refused in a bulk, and keeps the others', async () => {
    const subject = testElasticsearchIndex();
    try {
      await subject.index.init();
      const [good, other] = await buildCorpus();
      // A size beyond a long: Elasticsearch refuses that one item, not the request.
      const refused = { ...other, mailboxId: good.mailboxId, entryId: 'too-big', size: 1e20 };
      const err = await subject.index.upsert([good, refused]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SearchIndexError);
      expect(String((err as Error).message)).toMatch(new RegExp(`${good.mailboxId}/too-big: 400 \\w+`));
      expect([...(await subject.index.versions(good.mailboxId)).keys()]).toEqual([good.entryId]);
    } finally {
      await subject.cleanup();
    }
  });
});
