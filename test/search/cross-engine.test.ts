/**
 * The same queries over the same .eml corpus on both search engines: SQLite FTS5 and
 * Elasticsearch must return the same entry ids in the same order. The corpus is every fixture in
 * test/fixtures/search/ and test/fixtures/mail/, spread over two mailboxes, several folders and
 * tags and three weeks (with ties in time, so the entry-id tie-break shows).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSearchDocument } from '../../src/search/document-builder.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import type { SearchDocument, SearchIndex } from '../../src/search/search-index.js';
import { FtsSearchIndex } from '../../src/search/sqlite-fts/fts-search-index.js';
import { testElasticsearchIndex } from '../helpers/elasticsearch.js';
import { bareEntry } from './search-corpus.js';

const DIRS = ['../fixtures/search/', '../fixtures/mail/'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
const FOLDERS = ['INBOX', 'INBOX', 'Work', 'Junk', 'INBOX', 'Archive'];
const TAGS = [[], ['Work'], ['finance', 'Bills'], ['bulk'], [], ['personal', 'work']];

/** Every fixture as a document: mailbox B gets every fifth one, the rest go to A. */
async function crossCorpus(): Promise<SearchDocument[]> {
  const files = DIRS.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.eml')).sort().map((f) => dir + f));
  return Promise.all(
    files.map(async (file, i) => {
      const raw = await readFile(file);
      // Two entries per day; on every third day both arrive in the very same millisecond.
      const day = 1 + Math.floor(i / 2);
      const time = (day - 1) % 3 === 0 ? '09:00:00' : `1${i % 10}:30:0${i % 7}`;
      const spec = {
        entryId: `x-${String(i).padStart(2, '0')}`,
        mailboxId: i % 5 === 4 ? 'mbx-b' : 'mbx-a',
        fixture: file,
        folder: FOLDERS[i % FOLDERS.length],
        tags: TAGS[i % TAGS.length],
        receivedAt: `2024-05-${String(day).padStart(2, '0')}T${time}Z`,
      };
      return buildSearchDocument(bareEntry(spec, raw), raw, 1);
    }),
  );
}

const QUERIES = [
  '', 'lunch', 'LUNCH thursday', '"lunch on thursday"', '"thursday lunch"', 'soup', 'mill street',
  'propose', 'runners', 'ci', 'build', '1482', '"build 1482"', 'failed', 'gtube', 'money', 'guaranteed',
  'report', 'q1', 'pdf', 'q1-report.pdf', 'report.pdf', 'invoice', '44120', 'zip', 'münchen', 'munchen',
  'MÜNCHEN', 'grüße', 'übermorgen', 'uebermorgen', 'café', 'cafe', 'server room', '"server room"',
  '"room server"', 'badge readers', 'reception', '15', '15:00', 'meeting', 'notes', 'budget', 'tulip',
  'logo', 'example', 'shop', 'example.shop', 'news.example.shop', 'https', 'month', "month's", 'jacket',
  'thermos', 'unsubscribe', 'bob@example.com', 'from:alice', 'from:liddell', 'from:"alice liddell"',
  'from:example.org', 'from:müller', 'from:MÜLLER', 'from:bank', 'from:noreply', 'from:"<"',
  'from:billing@invoices.example', 'to:bob', 'to:BOB@EXAMPLE.COM', 'to:carol', 'to:grace', 'to:example.net',
  'to:lists', 'to:robert', 'to:smith', 'to:undisclosed', 'subject:lunch', 'subject:re', 'subject:"build 1482"',
  'subject:dev', 'subject:q1', 'subject:report', 'subject:münchen', 'tag:work', 'tag:WORK', 'tag:bills',
  'tag:bulk', 'tag:finance tag:bills', 'tag:personal tag:work', 'tag:nope', 'folder:inbox', 'folder:INBOX',
  'folder:work', 'folder:junk', 'folder:archive', 'has:attachment', 'has:attachment invoice',
  'has:attachment from:erin', 'after:2024-05-03', 'before:2024-05-03', 'after:2024-05-04 before:2024-05-06',
  'after:2024-06-01', 'folder:inbox after:2024-05-02 to:bob', 'from:alice to:carol subject:lunch',
  'budget*', '"budget" ^quarter', 'NEAR(budget', 'build OR lunch', 'subject:AND', 'x*y', "don't",
];

describe('FTS5 and Elasticsearch give the same results on the shared corpus', () => {
  let corpus: SearchDocument[];
  let fts: SearchIndex;
  const es = testElasticsearchIndex();

  beforeAll(async () => {
    corpus = await crossCorpus();
    fts = new FtsSearchIndex({ file: ':memory:' });
    await fts.init();
    await es.index.init();
    await fts.upsert(corpus);
    await es.index.upsert(corpus);
  });
  afterAll(async () => {
    await fts?.close();
    await es.cleanup();
  });

  const results: Record<string, number> = {};
  it.each(QUERIES.flatMap((q) => [['mbx-a', q], ['mbx-b', q]]))('%s: %j', async (mailboxId, query) => {
    const q = parseSearchQuery(query);
    const embedded = (await fts.search(mailboxId, q, 100)).map((h) => h.entryId);
    const distributed = (await es.index.search(mailboxId, q, 100)).map((h) => h.entryId);
    expect(distributed).toEqual(embedded);
    results[`${mailboxId} ${query}`] = embedded.length;
  });

  it('is a meaningful comparison: most queries find something, and the corpus holds ties', () => {
    const found = Object.entries(results).filter(([key, n]) => key.startsWith('mbx-a ') && n > 0).length;
    expect(corpus.length).toBeGreaterThanOrEqual(18);
    expect(found).toBeGreaterThan(QUERIES.length * 0.6);
    const times = corpus.map((d) => `${d.mailboxId} ${d.date.getTime()}`);
    expect(new Set(times).size).toBeLessThan(times.length);
  });

  it('agrees on the inventory of each mailbox', async () => {
    for (const mailboxId of ['mbx-a', 'mbx-b']) {
      const sorted = (m: Map<string, { version: number; folder: string; tags: string[] }>) =>
        [...m].map(([id, s]) => [id, s.version, s.folder, [...s.tags].sort()]).sort();
      expect(sorted(await es.index.inventory(mailboxId))).toEqual(sorted(await fts.inventory(mailboxId)));
    }
    expect((await es.index.mailboxIds()).sort()).toEqual((await fts.mailboxIds()).sort());
  });
});
