import { afterEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { EntryWriter } from '../../src/store/sqlite/entry-writer.js';
import { MailboxDirectory } from '../../src/store/sqlite/mailbox-directory.js';
import { applyMigrations } from '../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { OutboxQueue } from '../../src/store/sqlite/outbox-queue.js';
import type { DeliveryResult } from '../../src/store/types.js';
import { makeDelivery } from './delivery-fixture.js';

let db: Database.Database | null = null;

afterEach(() => {
  db?.close();
  db = null;
});

/** A writer on a fresh in-memory store with one mailbox. */
function setUp(): { writer: EntryWriter; mailboxId: string; count: () => number } {
  db = openDatabase(':memory:', 1000);
  applyMigrations(db);
  const outbox = new OutboxQueue(db);
  const directory = new MailboxDirectory(db, outbox);
  directory.addDomain('example.com');
  const mailboxId = directory.addMailbox({ address: 'alice@example.com', quotaBytes: 0 }).id;
  const handle = db;
  const count = () => (handle.prepare('SELECT COUNT(*) AS n FROM mailbox_entries').get() as { n: number }).n;
  return { writer: new EntryWriter(db, outbox, null), mailboxId, count };
}

describe('EntryWriter batches', () => {
  it('writes a batch without failures in one pass', () => {
    const { writer, mailboxId, count } = setUp();
    const results = writer.deliverMany([makeDelivery(mailboxId), makeDelivery(mailboxId), makeDelivery(mailboxId)]);
    expect(results.every((r) => !(r instanceof Error) && !r.duplicate)).toBe(true);
    expect(count()).toBe(3);
    expect(writer.isolatedRetries).toBe(0);
  });

  it('rolls the whole first pass back when one delivery fails, then stores the others one by one', () => {
    const { writer, mailboxId, count } = setUp();
    const repeated = makeDelivery(mailboxId);
    const batch = [makeDelivery(mailboxId), makeDelivery('no-such-mailbox'), repeated, { ...repeated }];
    const results = writer.deliverMany(batch);
    expect(writer.isolatedRetries).toBe(1);
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/mailbox no-such-mailbox does not exist/);
    const [first, , third, fourth] = results as DeliveryResult[];
    expect(first.duplicate).toBe(false);
    expect(third.duplicate).toBe(false);
    // The same bytes twice in one batch still make one entry: the rolled-back first pass left nothing.
    expect(fourth).toEqual({ entryId: third.entryId, duplicate: true });
    expect(count()).toBe(2);
    const outboxRows = (db!.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    expect(outboxRows).toBe(2);
  });
});
