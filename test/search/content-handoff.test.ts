import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import parse, { parseConfigSchema } from '../../plugins/parse/index.js';
import { loadConfig } from '../../src/config/load.js';
import { contentBytes, type MessageContent } from '../../src/mail/message-content.js';
import type { LoadedPlugin } from '../../src/pipeline/registry.js';
import { PluginRunner } from '../../src/pipeline/runner.js';
import { ContentHandoff } from '../../src/search/content-handoff.js';
import { Indexer } from '../../src/search/indexer.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { FtsSearchIndex } from '../../src/search/sqlite-fts/fts-search-index.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { TransactionCore } from '../../src/transaction/transaction-core.js';
import { makeSession } from '../helpers/plugin-context.js';
import { readFixture } from './search-corpus.js';

const content = (text: string): MessageContent => ({ subject: 's', text, html: '', attachments: [] });

describe('ContentHandoff', () => {
  it('holds content until it is released', () => {
    const handoff = new ContentHandoff();
    handoff.offer('a', content('alpha'));
    expect(handoff.get('a')?.text).toBe('alpha');
    // Read again for a second entry of the same bytes in the same batch.
    expect(handoff.get('a')?.text).toBe('alpha');
    handoff.release(['a']);
    expect(handoff.get('a')).toBeUndefined();
    expect(handoff.heldBytes).toBe(0);
  });

  it('keeps within its byte budget by dropping the oldest content', () => {
    const one = contentBytes(content('x'.repeat(1000)));
    const handoff = new ContentHandoff({ maxBytes: 16 * one });
    const keys = Array.from({ length: 18 }, (_, i) => `sha-${i}`);
    for (const key of keys) handoff.offer(key, content('x'.repeat(1000)));
    expect(handoff.heldBytes).toBe(16 * one);
    expect(keys.map((key) => handoff.get(key) !== undefined)).toEqual(keys.map((_, i) => i >= 2));
    expect(handoff.counts.dropped).toBe(2);
  });

  it('does not hold one message larger than an eighth of the budget', () => {
    const handoff = new ContentHandoff({ maxBytes: 64 * 1024 });
    handoff.offer('big', content('x'.repeat(8 * 1024)));
    expect(handoff.get('big')).toBeUndefined();
    expect(handoff.counts.tooLarge).toBe(1);
    expect(handoff.heldBytes).toBe(0);
  });

  it('drops content the indexer has not taken within its time to live', () => {
    let now = 1_000;
    const handoff = new ContentHandoff({ ttlMs: 100, now: () => now });
    handoff.offer('a', content('alpha'));
    now += 50;
    handoff.offer('b', content('beta'));
    now += 60;
    expect(handoff.get('a')).toBeUndefined();
    handoff.sweep();
    expect(handoff.get('b')?.text).toBe('beta');
    expect(handoff.heldBytes).toBe(contentBytes(content('beta')));
  });

  it('holds nothing with a budget of 0', () => {
    const handoff = new ContentHandoff({ maxBytes: 0 });
    handoff.offer('a', content(''));
    expect(handoff.get('a')).toBeUndefined();
  });
});

describe('delivery hands the parsed content to the indexer', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let index: FtsSearchIndex;
  /** Raw messages the indexer read back from the store. */
  let rawReads: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-handoff-'));
    store = new SqliteMessageStore({ file: join(dir, 'hermod.sqlite') });
    await store.init();
    await store.addDomain('example.org');
    await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
    await store.addMailbox({ address: 'bob@example.org', quotaBytes: 0 });
    index = new FtsSearchIndex({ file: join(dir, 'search.sqlite') });
    await index.init();
    rawReads = 0;
  });

  afterEach(async () => {
    await index.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The store as the indexer sees it, counting the raw messages it reads. */
  function countingStore(): SqliteMessageStore {
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'getRaws') return (shas: string[]) => ((rawReads += shas.length), target.getRaws(shas));
        if (prop === 'getRaw') return (sha: string) => (rawReads++, target.getRaw(sha));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** A transaction core with the given plugin chain, handing content to `handoff`. */
  function transactions(handoff: ContentHandoff, withParse: boolean): TransactionCore {
    const log = pino({ level: 'silent' });
    const config = loadConfig({ env: {}, file: undefined, overrides: { plugins: [] } });
    const plugin: LoadedPlugin = {
      manifest: parse as LoadedPlugin['manifest'],
      entry: { name: 'parse', timeoutMs: 5000, failOpen: false, config: {} },
      config: parseConfigSchema.parse({}),
      state: undefined,
    };
    const runner = new PluginRunner(withParse ? [plugin] : [], log);
    return new TransactionCore({ directory: store, entries: store, runner, config, log, searchContent: handoff });
  }

  async function deliver(core: TransactionCore, raw: Buffer, recipients: string[]): Promise<void> {
    const { open } = await core.open('local', makeSession(), `t-${Math.random()}`, 'sender@remote.test');
    for (const rcpt of recipients) expect(await core.addRecipient(open, rcpt)).toBeNull();
    const report = await core.deliver(open, raw);
    expect(report.replies.map((reply) => reply.code)).toEqual(recipients.map(() => 250));
  }

  const search = async (address: string, query: string) => {
    const mailbox = (await store.resolveAddress(address))!;
    return (await index.search(mailbox.id, parseSearchQuery(query), 10)).map((hit) => hit.entryId);
  };

  it('indexes every recipient’s entry without reading the message back, then lets the content go', async () => {
    const handoff = new ContentHandoff();
    const indexer = new Indexer({ store: countingStore(), index, log: pino({ level: 'silent' }), handoff });
    await deliver(transactions(handoff, true), await readFixture('invoice-attachment.eml'), ['alice@example.org', 'bob@example.org']);
    expect(handoff.heldBytes).toBeGreaterThan(0);

    expect(await indexer.drainAll()).toBe(2);
    expect(rawReads).toBe(0);
    expect(handoff.counts.taken).toBe(2);
    expect(handoff.heldBytes).toBe(0);
    expect(await search('alice@example.org', 'has:attachment')).toHaveLength(1);
    expect(await search('bob@example.org', 'has:attachment')).toHaveLength(1);
  });

  it('reflects a move made after delivery and before the indexer ran', async () => {
    const handoff = new ContentHandoff();
    const indexer = new Indexer({ store: countingStore(), index, log: pino({ level: 'silent' }), handoff });
    await deliver(transactions(handoff, true), await readFixture('quarterly-report.eml'), ['alice@example.org']);
    const mailbox = (await store.resolveAddress('alice@example.org'))!;
    const [entry] = await store.listEntries({ mailboxId: mailbox.id, limit: 1 });
    await store.moveEntry(entry.id, 'Archive');

    expect(await indexer.drainAll()).toBe(2);
    expect(rawReads).toBe(0);
    expect(await search('alice@example.org', 'folder:Archive')).toEqual([entry.id]);
    expect(await search('alice@example.org', 'folder:INBOX')).toEqual([]);
  });

  it('reads and parses the stored bytes when no parse plugin ran, or the content is gone', async () => {
    let now = 0;
    const handoff = new ContentHandoff({ ttlMs: 1000, now: () => now });
    const indexer = new Indexer({ store: countingStore(), index, log: pino({ level: 'silent' }), handoff });
    await deliver(transactions(handoff, false), await readFixture('utf8-greetings.eml'), ['alice@example.org']);
    expect(handoff.counts.offered).toBe(0);
    await deliver(transactions(handoff, true), await readFixture('quarterly-report.eml'), ['alice@example.org']);
    now += 5000;

    expect(await indexer.drainAll()).toBe(2);
    expect(rawReads).toBe(2);
    expect(handoff.counts.taken).toBe(0);
    expect(await search('alice@example.org', '')).toHaveLength(2);
  });

  it('offers nothing for a delivery of bytes the mailbox already holds (nothing new is written)', async () => {
    const handoff = new ContentHandoff();
    const core = transactions(handoff, true);
    const { open } = await core.open('local', makeSession(), 't-dup', 'sender@remote.test');
    expect(await core.addRecipient(open, 'alice@example.org')).toBeNull();
    const raw = await readFixture('quarterly-report.eml');
    await core.deliver(open, raw);
    // The same bytes again are a duplicate: nothing new is written, so nothing is offered.
    const { open: again } = await core.open('local', makeSession(), 't-dup2', 'sender@remote.test');
    expect(await core.addRecipient(again, 'alice@example.org')).toBeNull();
    await core.deliver(again, raw);
    expect(handoff.counts.offered).toBe(1);
  });
});
