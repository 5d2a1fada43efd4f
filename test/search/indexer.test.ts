import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { Indexer } from '../../src/search/indexer.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { SearchIndexError } from '../../src/search/search-error.js';
import type { SearchDocument } from '../../src/search/search-index.js';
import { FtsSearchIndex } from '../../src/search/sqlite-fts/fts-search-index.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import type { Delivery, Mailbox } from '../../src/store/types.js';
import { readFixture } from './search-corpus.js';

/** An FTS index whose upserts fail the first `failures` times, as an unreachable engine would. */
class FlakyFtsSearchIndex extends FtsSearchIndex {
  attempts = 0;
  constructor(
    file: string,
    private failures: number,
    /** Fail as an engine that cannot be reached (the indexer then holds the batch for the retry). */
    private readonly unavailable = false,
  ) {
    super({ file });
  }

  override async upsert(docs: SearchDocument[]): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new SearchIndexError('search index: connection refused', { unavailable: this.unavailable });
    }
    return super.upsert(docs);
  }
}

/** A pino logger that keeps its records, so tests can check what was logged. */
function recordingLogger(): { log: Logger; records: { level: number; msg: string }[] } {
  const records: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) records.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), records };
}

async function delivery(mailbox: Mailbox, fixture: string, tags: string[] = []): Promise<Delivery> {
  const raw = await readFixture(fixture);
  return {
    mailboxId: mailbox.id,
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
    prependHeaders: 'Received: from mx.test by hermod.test with LMTP\r\n',
    folder: 'INBOX',
    flags: [],
    tags,
    importance: 0,
    spamScore: 0,
    threadId: `thread-${fixture}`,
    // Empty, as when no parse plugin ran: the document builder reads the raw message instead.
    summary: { subject: '', from: '', to: [], cc: [], date: null, messageId: null, attachments: [] },
    envelope: { mailFrom: 'sender@remote.test', rcptTo: mailbox.address, clientAddress: '192.0.2.1', transactionId: 'tx' },
    ledger: [],
  };
}

describe('Indexer (SQLite store → FTS5 index)', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let mailbox: Mailbox;
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-indexer-'));
    store = new SqliteMessageStore({ file: join(dir, 'hermod.sqlite') });
    await store.init();
    await store.addDomain('example.org');
    mailbox = await store.addMailbox({ address: 'bob@example.org', quotaBytes: 0 });
    closers = [() => store.close()];
  });

  afterEach(async () => {
    vi.useRealTimers();
    for (const close of closers.reverse()) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openIndex(failures = 0, unavailable = false): Promise<FlakyFtsSearchIndex> {
    const index = new FlakyFtsSearchIndex(join(dir, 'search.sqlite'), failures, unavailable);
    await index.init();
    closers.push(() => index.close());
    return index;
  }

  const search = async (index: FtsSearchIndex, query: string): Promise<string[]> =>
    (await index.search(mailbox.id, parseSearchQuery(query), 50)).map((hit) => hit.entryId);

  it('indexes delivered messages so search finds them', async () => {
    const index = await openIndex();
    const { log } = recordingLogger();
    const indexer = new Indexer({ store, index, log, batchSize: 2, pollMs: 10 });
    const ids: string[] = [];
    for (const fixture of ['quarterly-report.eml', 'invoice-attachment.eml', 'newsletter-alternative.eml']) {
      ids.push((await store.deliver(await delivery(mailbox, fixture, ['Inbound']))).entryId);
    }
    expect(await indexer.lag()).toBe(3);

    expect(await indexer.drainAll()).toBe(3);
    expect(await indexer.lag()).toBe(0);
    expect(await search(index, '')).toEqual([...ids].reverse());
    expect(await search(index, 'budget')).toEqual([ids[0]]);
    expect(await search(index, 'has:attachment receipt from:billing')).toEqual([ids[1]]);
    expect(await search(index, 'tulip tag:inbound folder:inbox')).toEqual([ids[2]]);
    const versions = await index.versions(mailbox.id);
    expect([...versions.keys()].sort()).toEqual([...ids].sort());
    expect(await indexer.drainOnce()).toBe(0);
  });

  it('leaves items in the outbox while the index fails, and catches up later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const index = await openIndex(2);
    const { log, records } = recordingLogger();
    const indexer = new Indexer({ store, index, log, batchSize: 10, pollMs: 10 });
    const { entryId } = await store.deliver(await delivery(mailbox, 'utf8-greetings.eml'));
    await store.deliver(await delivery(mailbox, 'meeting-html-only.eml'));

    await expect(indexer.drainOnce()).resolves.toBe(0);
    expect(await indexer.lag()).toBe(2);
    expect(records.some((r) => r.level === 50 && r.msg === 'indexer: batch failed, will retry')).toBe(true);
    // The store backs failed items off; nothing is due until their retry time.
    expect(await indexer.drainAll()).toBe(0);

    vi.setSystemTime(Date.now() + 60_000);
    expect(await indexer.drainAll()).toBe(0);
    expect(await indexer.lag()).toBe(2);

    vi.setSystemTime(Date.now() + 60_000);
    expect(await indexer.drainAll()).toBe(2);
    expect(await indexer.lag()).toBe(0);
    expect(index.attempts).toBe(3);
    expect(await search(index, 'münchen')).toEqual([entryId]);
  });

  it('sends the batch the index was unavailable for again, without reading its entries again', async () => {
    const index = await openIndex(3, true);
    const calls = { pendingOutbox: 0, getEntries: 0 };
    const countingStore = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'pendingOutbox' || prop === 'getEntries') {
          return (...args: unknown[]) => (calls[prop]++, value.apply(target, args));
        }
        return value.bind(target);
      },
    });
    const indexer = new Indexer({ store: countingStore, index, log: pino({ level: 'silent' }), batchSize: 10 });
    await store.deliver(await delivery(mailbox, 'quarterly-report.eml'));
    await store.deliver(await delivery(mailbox, 'invoice-attachment.eml'));

    for (let attempt = 0; attempt < 3; attempt++) expect(await indexer.drainOnce()).toBe(0);
    expect(calls).toEqual({ pendingOutbox: 1, getEntries: 1 });
    // Items of a held batch get no per-item delay; a change made meanwhile waits for the next batch.
    expect((await store.pendingOutbox(10)).map((item) => item.attempts)).toEqual([0, 0]);
    await store.deliver(await delivery(mailbox, 'utf8-greetings.eml'));

    expect(await indexer.drainOnce()).toBe(2);
    expect(calls).toEqual({ pendingOutbox: 1, getEntries: 1 });
    expect(await indexer.drainAll()).toBe(1);
    expect(index.attempts).toBe(5);
    const stored = (await store.listEntries({ mailboxId: mailbox.id, limit: 5 })).map((entry) => entry.id);
    expect(stored).toHaveLength(3);
    expect((await search(index, '')).sort()).toEqual(stored.sort());
    expect(await indexer.lag()).toBe(0);
  });

  it('runs in the background and stops after the batch in progress', async () => {
    const index = await openIndex();
    const indexer = new Indexer({ store, index, log: pino({ level: 'silent' }), pollMs: 5 });
    indexer.start();
    indexer.start();
    const { entryId } = await store.deliver(await delivery(mailbox, 'meeting-html-only.eml'));
    await vi.waitFor(async () => expect(await search(index, 'kepler')).toEqual([entryId]), { timeout: 5000 });
    await indexer.stop();
    await indexer.stop();

    await store.deliver(await delivery(mailbox, 'quarterly-report.eml'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await indexer.lag()).toBe(1);
  });

  it('keeps looping without throwing while the index is down', async () => {
    const index = await openIndex(Number.MAX_SAFE_INTEGER);
    const { log, records } = recordingLogger();
    const indexer = new Indexer({ store, index, log, pollMs: 1, maxBackoffMs: 5 });
    await store.deliver(await delivery(mailbox, 'quarterly-report.eml'));
    indexer.start();
    await vi.waitFor(() => expect(index.attempts).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    await indexer.stop();
    expect(await indexer.lag()).toBe(1);
    expect(records.filter((r) => r.level === 50).length).toBeGreaterThanOrEqual(1);
  });

  it('does not throw when the store itself is down', async () => {
    const index = await openIndex();
    const { log, records } = recordingLogger();
    const indexer = new Indexer({ store, index, log, pollMs: 1, maxBackoffMs: 5 });
    await store.close();
    await expect(indexer.drainOnce()).resolves.toBe(0);
    await expect(indexer.drainAll()).resolves.toBe(0);
    indexer.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await indexer.stop();
    expect(records.some((r) => r.msg === 'indexer: cannot read the outbox')).toBe(true);
  });

  it('gives items no per-item delay when the store fails reading their entries', async () => {
    const index = await openIndex();
    const { log, records } = recordingLogger();
    let failReads = 1;
    const flakyStore = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'getEntries' && failReads > 0) {
          return async () => {
            failReads--;
            throw new StoreError('getEntries failed: no host available');
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const indexer = new Indexer({ store: flakyStore, index, log, batchSize: 10 });
    await store.deliver(await delivery(mailbox, 'quarterly-report.eml'));
    expect(await indexer.drainOnce()).toBe(0);
    expect(records.some((r) => r.msg === 'indexer: store unavailable, will retry')).toBe(true);
    // Due again at once: the next attempt after the outage applies it.
    expect((await store.pendingOutbox(10)).map((i) => i.attempts)).toEqual([0]);
    expect(await indexer.drainOnce()).toBe(1);
  });

  it('drains a backlog in batches that grow while they come back full', async () => {
    const index = await openIndex();
    const sizes: number[] = [];
    const countingStore = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'pendingOutbox') return (limit: number) => (sizes.push(limit), target.pendingOutbox(limit));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    for (const fixture of ['quarterly-report.eml', 'invoice-attachment.eml', 'newsletter-alternative.eml',
      'meeting-html-only.eml', 'utf8-greetings.eml']) {
      await store.deliver(await delivery(mailbox, fixture));
    }
    const indexer = new Indexer({ store: countingStore, index, log: pino({ level: 'silent' }), batchSize: 1, pollMs: 5 });
    indexer.start();
    await vi.waitFor(async () => expect(await indexer.lag()).toBe(0), { timeout: 5000 });
    await indexer.stop();
    // 1 + 2 full, then 4 asked and 2 found: back to the base size.
    expect(sizes.slice(0, 4)).toEqual([1, 2, 4, 1]);
    expect(await search(index, '')).toHaveLength(5);
  });

  it('removes the documents of a removed mailbox', async () => {
    const index = await openIndex();
    const indexer = new Indexer({ store, index, log: pino({ level: 'silent' }) });
    await store.deliver(await delivery(mailbox, 'quarterly-report.eml'));
    await store.deliver(await delivery(mailbox, 'invoice-attachment.eml'));
    await indexer.drainAll();
    expect(await search(index, '')).toHaveLength(2);

    await store.removeMailbox('bob@example.org');
    expect(await indexer.drainAll()).toBeGreaterThanOrEqual(2);
    expect(await search(index, '')).toEqual([]);
    expect((await index.versions(mailbox.id)).size).toBe(0);
  });
});
