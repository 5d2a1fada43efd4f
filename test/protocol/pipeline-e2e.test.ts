import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

const fixture = (name: string) => readFileSync(new URL(`../fixtures/mail/${name}`, import.meta.url), 'latin1');

/** LMTP delivery of a fixture to bob@example.com; returns the entry id. */
async function deliverFixture(h: Harness, name: string): Promise<{ reply: string; entryId?: string }> {
  const client = await RawSmtpClient.open(h.lmtpPort);
  await client.reply();
  await client.command('LHLO mta.test');
  await client.command('MAIL FROM:<sender@example.org>');
  expect((await client.command('RCPT TO:<bob@example.com>')).code).toBe(250);
  await client.command('DATA');
  const body = fixture(name).replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  client.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
  const reply = (await client.reply()).text;
  client.close();
  return { reply, entryId: /delivered as (\S+)/.exec(reply)?.[1] };
}

async function startWithBob(overrides: Record<string, unknown> = {}): Promise<Harness> {
  const h = await startHermod(overrides, []);
  await h.server.services.store.addDomain('example.com');
  await h.server.services.store.addMailbox({ address: 'bob@example.com', aliases: [], quotaBytes: 0 });
  return h;
}

describe('the plugin chain end to end', () => {
  it('stores the ledger, classification and spam headers with each message', async () => {
    hermod = await startWithBob();
    const { entryId } = await deliverFixture(hermod, '03-mailing-list.eml');
    const store = hermod.server.services.store;
    const entry = (await store.getEntry(entryId!))!;
    expect(entry.tags).toContain('list');
    expect(entry.importance).toBeLessThan(0);
    expect(entry.folder).toBe('INBOX');
    const ledger = await store.getLedger(entryId!);
    expect(ledger.map((l) => l.plugin)).toEqual(['parse', 'spam', 'bayes', 'classify', 'scorer']);
    expect(ledger.every((l) => l.verdict && typeof l.durationMs === 'number')).toBe(true);
    // bayes is in the default chain, but a fresh store has learned nothing: it scores 0 and says why.
    expect(ledger.find((l) => l.plugin === 'bayes')).toMatchObject({
      score: 0,
      reason: 'bayes untrained, contributes nothing (0 spam / 0 ham learned, need 200 each)',
    });
    const full = (await store.getFullMessage(entryId!))!.toString();
    expect(full).toMatch(/^Received: from mta\.test \(\[127\.0\.0\.1\]\)/);
    expect(full).toMatch(/\r\nX-Spam-Status: No, score=/);
  });

  it('config thresholds send a scored message to Junk with X-Spam-Status: Yes', async () => {
    hermod = await startWithBob({ scoring: { addHeader: 1, junk: 2, reject: 500 } });
    const { entryId } = await deliverFixture(hermod, '07-heuristic-spam.eml');
    const store = hermod.server.services.store;
    const entry = (await store.getEntry(entryId!))!;
    expect(entry.folder).toBe('Junk');
    expect(entry.spamScore).toBeGreaterThanOrEqual(2);
    expect((await store.getFullMessage(entryId!))!.toString()).toMatch(/X-Spam-Status: Yes/);
  });

  it('GTUBE is refused with 550 5.7.1 and leaves no entry', async () => {
    hermod = await startWithBob();
    const { reply } = await deliverFixture(hermod, '06-gtube.eml');
    expect(reply).toMatch(/^550 5\.7\.1 /);
    const mailbox = (await hermod.server.services.store.resolveAddress('bob@example.com'))!;
    expect(await hermod.server.services.store.listEntries({ mailboxId: mailbox.id, limit: 5 })).toEqual([]);
  });

  it('the indexer makes delivered mail searchable, and each transaction is one log line', async () => {
    hermod = await startWithBob();
    const { entryId } = await deliverFixture(hermod, '08-attachment.eml');
    const { search, store } = hermod.server.services;
    const mailbox = (await store.resolveAddress('bob@example.com'))!;
    let hits: { entryId: string }[] = [];
    for (let i = 0; i < 100 && hits.length === 0; i++) {
      hits = await search.search(mailbox.id, parseSearchQuery('has:attachment'), 10);
      if (hits.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(hits.map((h) => h.entryId)).toEqual([entryId]);
    const lines = hermod.logs.filter((l) => l.msg === 'transaction');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      txn: expect.any(String),
      client: '127.0.0.1',
      from: 'sender@example.org',
      rcpt: [{ to: 'bob@example.com', reply: '250 2.0.0', entry: entryId }],
      bytes: expect.any(Number),
      ms: expect.any(Number),
    });
  });
});
