import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import type { SearchDocument, SearchIndex, SearchQuery } from '../../src/search/search-index.js';
import { buildCorpus, MAILBOX_A, MAILBOX_B } from '../search/search-corpus.js';

/** What an adapter's test hands the contract: a fresh, empty, not yet initialised index. */
export interface SearchIndexUnderTest {
  index: SearchIndex;
  /** Closes the index and removes what it created (file, Elasticsearch index). */
  cleanup(): Promise<void>;
}

/**
 * One query of the table: the search-box text, and the entry ids expected in mailbox A, in order.
 * Corpus: test/search/search-corpus.ts (entry-05 and entry-06 share one timestamp).
 */
type QueryCase = [query: string, expected: string[]];

const QUERIES: QueryCase[] = [
  ['', ['entry-06', 'entry-05', 'entry-04', 'entry-03', 'entry-02', 'entry-01']],
  // free text: subject, body (plain, HTML-only, alternative), attachment names; words ANDed
  ['budget', ['entry-01']],
  ['BUDGET', ['entry-01']],
  ['budget travel', ['entry-01']],
  ['budget tulip', []],
  ['"third quarter"', ['entry-01']],
  ['"quarter third"', []],
  ['meeting', ['entry-05', 'entry-01']],
  ['tulip', ['entry-04']],
  ['Kepler roadmap', ['entry-05']],
  ['logo', ['entry-06']],
  ['receipt', ['entry-02']],
  ['invoice', ['entry-02']],
  // non-ASCII
  ['münchen', ['entry-03']],
  ['MÜNCHEN', ['entry-03']],
  ['Grüße', ['entry-03']],
  ['東京', ['entry-03']],
  // from: substring of address or display name, any case
  ['from:alice', ['entry-01']],
  ['from:"alice example"', ['entry-01']],
  ['from:ALICE@EXAMPLE.COM', ['entry-01']],
  ['from:shop.example', ['entry-02']],
  ['from:Müller', ['entry-03']],
  ['from:garden', ['entry-04']],
  ['from:nobody', []],
  // to: covers To and Cc
  ['to:carol', ['entry-01']],
  ['to:"carol danvers"', ['entry-01']],
  ['to:bob', ['entry-06', 'entry-05', 'entry-03', 'entry-02', 'entry-01']],
  ['to:alice', ['entry-05']],
  ['to:subscribers', ['entry-04']],
  // subject: only the subject
  ['subject:report', ['entry-01']],
  ['subject:meeting', ['entry-05']],
  ['subject:"spring sale"', ['entry-04']],
  ['subject:budget', []],
  // tag: and folder: whole values, any case
  ['tag:finance', ['entry-02']],
  ['tag:news', []],
  ['tag:bulk tag:newsletter', ['entry-04']],
  ['folder:inbox', ['entry-05', 'entry-03', 'entry-02', 'entry-01']],
  ['folder:Junk', ['entry-06']],
  ['folder:news', []],
  // has:attachment: a real attachment, not an inline image of multipart/related
  ['has:attachment', ['entry-02']],
  // dates: after: from that day 00:00 UTC, before: until that day 00:00 UTC (exclusive)
  ['after:2024-03-14', ['entry-06', 'entry-05']],
  ['before:2024-03-08', ['entry-01']],
  ['after:2024-03-08 before:2024-03-09', ['entry-02']],
  ['after:2024-03-11 before:2024-03-12', ['entry-03']],
  ['after:2024-03-15', []],
  // combinations
  ['from:alice budget after:2024-03-01', ['entry-01']],
  ['to:bob has:attachment invoice', ['entry-02']],
  ['folder:inbox meeting', ['entry-05', 'entry-01']],
  ['folder:inbox tag:work subject:meeting from:dave', ['entry-05']],
  // FTS/query syntax in user text is just text
  ['budget OR tulip', []],
  ['budget*', ['entry-01']],
  ['NEAR(budget', []],
  ['subject:AND', []],
  ['"budget" ^quarter', ['entry-01']],
];

/** The contract every SearchIndex adapter passes. A search sees every write that has resolved. */
export function describeSearchIndexContract(
  name: string,
  makeIndex: () => Promise<SearchIndexUnderTest>,
): void {
  describe(`SearchIndex contract: ${name}`, () => {
    let corpus: SearchDocument[];
    beforeAll(async () => {
      corpus = await buildCorpus();
    });

    describe('queries', () => {
      let subject: SearchIndexUnderTest;
      beforeAll(async () => {
        subject = await makeIndex();
        await subject.index.init();
        await subject.index.upsert(corpus);
      });
      afterAll(async () => {
        await subject?.cleanup();
      });

      it.each(QUERIES)('%j finds %j', async (query, expected) => {
        const hits = await subject.index.search(MAILBOX_A, parseSearchQuery(query), 50);
        expect(hits.map((hit) => hit.entryId)).toEqual(expected);
      });

      it('returns the date with each hit', async () => {
        const [hit] = await subject.index.search(MAILBOX_A, parseSearchQuery('budget'), 10);
        expect(hit.date.toISOString()).toBe('2024-03-05T10:15:02.000Z');
      });

      it('stops at the limit, newest first', async () => {
        const hits = await subject.index.search(MAILBOX_A, parseSearchQuery(''), 2);
        expect(hits.map((hit) => hit.entryId)).toEqual(['entry-06', 'entry-05']);
      });

      it('scopes search and versions to the mailbox', async () => {
        const hits = await subject.index.search(MAILBOX_B, parseSearchQuery(''), 50);
        expect(hits.map((hit) => hit.entryId)).toEqual(['entry-07']);
        const budget = await subject.index.search(MAILBOX_B, parseSearchQuery('budget'), 50);
        expect(budget.map((hit) => hit.entryId)).toEqual(['entry-07']);
        expect(await subject.index.search('mbx-none', parseSearchQuery(''), 50)).toEqual([]);
        expect([...(await subject.index.versions(MAILBOX_B))]).toEqual([['entry-07', 1]]);
        expect((await subject.index.versions(MAILBOX_A)).size).toBe(6);
      });

      it('treats operator characters in raw query terms as text', async () => {
        const query: SearchQuery = {
          text: ['a"b', 'col:x', '^x', '(', 'NOT', 'x*', '""'],
          from: ['%'],
          to: ['_'],
          subject: ['"'],
          tags: ["'"],
        };
        await expect(subject.index.search(MAILBOX_A, query, 10)).resolves.toEqual([]);
        const like: SearchQuery = { text: [], from: ['%'], to: ['_'], subject: [], tags: [] };
        await expect(subject.index.search(MAILBOX_A, like, 10)).resolves.toEqual([]);
      });
    });

    describe('versions and removal', () => {
      let subject: SearchIndexUnderTest;
      let index: SearchIndex;
      const doc = (id: string, version: number, patch: Partial<SearchDocument> = {}): SearchDocument => ({
        ...corpus.find((d) => d.entryId === id)!,
        version,
        ...patch,
      });
      const ids = async (query: string, mailboxId = MAILBOX_A): Promise<string[]> =>
        (await index.search(mailboxId, parseSearchQuery(query), 50)).map((hit) => hit.entryId);

      beforeEach(async () => {
        subject = await makeIndex();
        index = subject.index;
        await index.init();
      });
      afterEach(async () => {
        await subject?.cleanup();
      });

      it('accepts empty batches', async () => {
        await index.upsert([]);
        await index.remove([]);
        expect(await ids('')).toEqual([]);
      });

      it('replaces a document with a higher version and ignores lower or equal ones', async () => {
        await index.upsert([doc('entry-01', 5)]);
        await index.upsert([doc('entry-01', 7, { subject: 'Quarterly report final', folder: 'Archive', tags: ['Done'] })]);
        await index.upsert([doc('entry-01', 6)]);
        await index.upsert([doc('entry-01', 7, { subject: 'Quarterly report again' })]);
        expect(await ids('subject:final')).toEqual(['entry-01']);
        expect(await ids('subject:draft')).toEqual([]);
        expect(await ids('subject:again')).toEqual([]);
        expect(await ids('folder:inbox')).toEqual([]);
        expect(await ids('folder:archive tag:done')).toEqual(['entry-01']);
        expect((await index.versions(MAILBOX_A)).get('entry-01')).toBe(7);
      });

      it('keeps the highest version within one batch', async () => {
        await index.upsert([doc('entry-02', 3, { subject: 'newer' }), doc('entry-02', 2, { subject: 'older' })]);
        expect(await ids('subject:newer')).toEqual(['entry-02']);
        expect(await ids('subject:older')).toEqual([]);
      });

      it('removes with an equal or higher version, not a lower one', async () => {
        await index.upsert([doc('entry-01', 5), doc('entry-02', 5)]);
        await index.remove([{ entryId: 'entry-01', mailboxId: MAILBOX_A, version: 4 }]);
        expect(await ids('')).toEqual(['entry-02', 'entry-01']);
        await index.remove([
          { entryId: 'entry-01', mailboxId: MAILBOX_A, version: 5 },
          { entryId: 'entry-02', mailboxId: MAILBOX_A, version: 9 },
        ]);
        expect(await ids('')).toEqual([]);
        expect(await ids('budget')).toEqual([]);
        expect((await index.versions(MAILBOX_A)).size).toBe(0);
      });

      it('does not let an older upsert bring a removed document back', async () => {
        await index.upsert([doc('entry-01', 5)]);
        await index.remove([{ entryId: 'entry-01', mailboxId: MAILBOX_A, version: 6 }]);
        await index.upsert([doc('entry-01', 5)]);
        await index.upsert([doc('entry-01', 6)]);
        expect(await ids('budget')).toEqual([]);
        await index.upsert([doc('entry-01', 8)]);
        expect(await ids('budget')).toEqual(['entry-01']);
      });

      it('remembers a removal that arrives before the document', async () => {
        await index.remove([{ entryId: 'entry-03', mailboxId: MAILBOX_A, version: 4 }]);
        await index.upsert([doc('entry-03', 3)]);
        expect(await ids('münchen')).toEqual([]);
        await index.upsert([doc('entry-03', 5)]);
        expect(await ids('münchen')).toEqual(['entry-03']);
      });

      it('removes only in the named mailbox', async () => {
        await index.upsert([doc('entry-01', 1), doc('entry-07', 1)]);
        await index.remove([{ entryId: 'entry-07', mailboxId: MAILBOX_A, version: 2 }]);
        expect(await ids('budget', MAILBOX_B)).toEqual(['entry-07']);
        await index.remove([{ entryId: 'entry-07', mailboxId: MAILBOX_B, version: 2 }]);
        expect(await ids('budget', MAILBOX_B)).toEqual([]);
        expect(await ids('budget')).toEqual(['entry-01']);
      });
    });
  });
}
