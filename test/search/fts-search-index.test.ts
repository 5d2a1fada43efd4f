import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SearchIndexError } from '../../src/search/search-error.js';
import { FtsSearchIndex, openIndexDatabase } from '../../src/search/sqlite-fts/fts-search-index.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { describeSearchIndexContract } from '../contract/search-index.contract.js';
import { buildCorpus, MAILBOX_A } from './search-corpus.js';

describeSearchIndexContract('SQLite FTS5 (in memory)', async () => {
  const index = new FtsSearchIndex({ file: ':memory:' });
  return { index, cleanup: () => index.close() };
});

describeSearchIndexContract('SQLite FTS5 (file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-fts-'));
  const index = new FtsSearchIndex({ file: join(dir, 'search.sqlite') });
  return {
    index,
    async cleanup() {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FtsSearchIndex specifics', () => {
  // The indexer acknowledges outbox items once the index has committed: that commit must survive a
  // power cut (synchronous=FULL, 2), or an acknowledged entry could vanish from search.
  it('opens the index file in WAL mode with synchronous=FULL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hermod-fts-sync-'));
    const db = openIndexDatabase(join(dir, 'index.sqlite'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('folds diacritics, so cafe finds Café', async () => {
    const index = new FtsSearchIndex({ file: ':memory:' });
    await index.init();
    await index.upsert(await buildCorpus());
    const hits = await index.search(MAILBOX_A, parseSearchQuery('cafe geoffnet subject:munchen'), 10);
    expect(hits.map((hit) => hit.entryId)).toEqual(['entry-03']);
    await index.close();
  });

  it('keeps documents across close and reopen, in WAL mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hermod-fts-'));
    const file = join(dir, 'search.sqlite');
    try {
      const first = new FtsSearchIndex({ file });
      await first.init();
      await first.upsert(await buildCorpus());
      await first.close();
      const second = new FtsSearchIndex({ file });
      await second.init();
      const hits = await second.search(MAILBOX_A, parseSearchQuery('tulip'), 10);
      expect(hits.map((hit) => hit.entryId)).toEqual(['entry-04']);
      expect((await second.versions(MAILBOX_A)).size).toBe(6);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a coded SearchIndexError when closed or not initialised', async () => {
    const index = new FtsSearchIndex({ file: ':memory:' });
    await expect(index.search(MAILBOX_A, parseSearchQuery(''), 10)).rejects.toBeInstanceOf(SearchIndexError);
    await index.init();
    await index.close();
    await index.close();
    await expect(index.upsert(await buildCorpus())).rejects.toMatchObject({ code: 'HERMOD_SEARCH' });
  });

  it('fails with a SearchIndexError when the file cannot be opened', async () => {
    const index = new FtsSearchIndex({ file: '/nonexistent-dir/for/sure/search.sqlite' });
    await expect(index.init()).rejects.toMatchObject({ code: 'HERMOD_SEARCH' });
  });

  it('rolls back a whole batch when one document is invalid', async () => {
    const index = new FtsSearchIndex({ file: ':memory:' });
    await index.init();
    const [good, bad] = await buildCorpus();
    await expect(index.upsert([good, { ...bad, date: new Date(Number.NaN) }])).rejects.toBeInstanceOf(
      SearchIndexError,
    );
    expect((await index.versions(MAILBOX_A)).size).toBe(0);
    await index.close();
  });

  it('returns nothing for a limit below one', async () => {
    const index = new FtsSearchIndex({ file: ':memory:' });
    await index.init();
    await index.upsert(await buildCorpus());
    expect(await index.search(MAILBOX_A, parseSearchQuery(''), 0)).toEqual([]);
    await index.close();
  });
});
