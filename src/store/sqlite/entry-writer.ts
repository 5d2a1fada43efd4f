import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { monotonicFactory } from 'ulid';
import { InputError, StoreError } from '../../errors.js';
import type { Delivery, DeliveryResult } from '../types.js';
import type { OutboxQueue } from './outbox-queue.js';

// Monotonic so entries delivered within one millisecond still sort in arrival order.
const newEntryId = monotonicFactory();

/**
 * Writes deliveries. Each delivery is one SQLite transaction: the blob (once per SHA-256), the
 * entry, its ledger and its outbox row commit together, or nothing does.
 */
export class EntryWriter {
  private readonly mailboxExists: Database.Statement;
  private readonly existing: Database.Statement;
  private readonly insertBlob: Database.Statement;
  private readonly insertEntry: Database.Statement;
  private readonly insertLedger: Database.Statement;
  private readonly write: (delivery: Delivery) => DeliveryResult;

  constructor(
    db: Database.Database,
    private readonly outbox: OutboxQueue,
  ) {
    this.mailboxExists = db.prepare('SELECT 1 FROM mailboxes WHERE id = ?');
    this.existing = db.prepare('SELECT id FROM mailbox_entries WHERE mailbox_id = ? AND sha256 = ?');
    this.insertBlob = db.prepare('INSERT OR IGNORE INTO messages (sha256, raw, size) VALUES (?, ?, ?)');
    this.insertEntry = db.prepare(`INSERT INTO mailbox_entries (
        id, mailbox_id, folder, sha256, size, flags, tags, importance, spam_score, thread_id,
        subject, from_addr, to_addrs, cc_addrs, date, message_id, attachments, prepend_headers,
        envelope, received_at
      ) VALUES (
        @id, @mailboxId, @folder, @sha256, @size, @flags, @tags, @importance, @spamScore, @threadId,
        @subject, @from, @to, @cc, @date, @messageId, @attachments, @prependHeaders,
        @envelope, @receivedAt
      )`);
    this.insertLedger = db.prepare(`INSERT INTO ledger (
        entry_id, seq, plugin, stage, verdict, score, reason, duration_ms, details
      ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // IMMEDIATE takes the write lock up front, so the dedupe read and the insert see one state.
    const tx = db.transaction((delivery: Delivery) => this.writeOnce(delivery));
    this.write = (delivery) => tx.immediate(delivery);
    // Inside the batch transaction each delivery is its own savepoint (better-sqlite3 nests a
    // transaction function as a SAVEPOINT), so one failing delivery rolls back only itself.
    const batch = db.transaction((deliveries: Delivery[]) =>
      deliveries.map((d): DeliveryResult | Error => {
        try {
          return tx(d);
        } catch (err) {
          return err as Error;
        }
      }),
    );
    this.writeBatch = (deliveries) => batch.immediate(deliveries);
  }

  private readonly writeBatch: (deliveries: Delivery[]) => (DeliveryResult | Error)[];

  /** The entry a committed delivery of these bytes made in the mailbox, or null. */
  findDelivered(mailboxId: string, sha256: string): string | null {
    const row = this.existing.get(mailboxId, String(sha256).toLowerCase()) as { id: string } | undefined;
    return row?.id ?? null;
  }

  /** Stores one delivery; returns once committed (synchronous=FULL makes the commit durable). */
  deliver(delivery: Delivery): DeliveryResult {
    const sha256 = checkedSha256(delivery);
    return this.write({ ...delivery, sha256 });
  }

  /**
   * Stores several deliveries with one commit (one fsync). Each result is that delivery's own
   * outcome; a failed commit throws, and then none of them is stored.
   */
  deliverMany(deliveries: Delivery[]): (DeliveryResult | Error)[] {
    const checked = deliveries.map((d): Delivery | Error => {
      try {
        return { ...d, sha256: checkedSha256(d) };
      } catch (err) {
        return err as Error;
      }
    });
    const valid = checked.filter((d): d is Delivery => !(d instanceof Error));
    const written = valid.length ? this.writeBatch(valid) : [];
    let next = 0;
    return checked.map((d) => (d instanceof Error ? d : written[next++]));
  }

  private writeOnce(delivery: Delivery): DeliveryResult {
    const { mailboxId, sha256 } = delivery;
    const found = this.existing.get(mailboxId, sha256) as { id: string } | undefined;
    if (found) return { entryId: found.id, duplicate: true };
    if (!this.mailboxExists.get(mailboxId)) {
      throw new StoreError(`deliver: mailbox ${mailboxId} does not exist (removed during the transaction?)`);
    }
    const now = Date.now();
    // A migrated entry (hermod migrate-data) keeps its id and arrival time.
    const entryId = delivery.imported?.entryId ?? newEntryId(now);
    const receivedAt = delivery.imported?.receivedAt.getTime() ?? now;
    this.insertBlob.run(sha256, delivery.raw, delivery.raw.length);
    this.insertEntry.run(entryParams(delivery, entryId, receivedAt));
    delivery.ledger.forEach((line, seq) => {
      const details = line.details === undefined ? null : JSON.stringify(line.details);
      this.insertLedger.run(
        entryId, seq, line.plugin, line.stage, line.verdict, line.score, line.reason, line.durationMs, details,
      );
    });
    // The migration rebuilds the index in bulk rather than through the outbox.
    if (!delivery.imported) this.outbox.enqueue(entryId, mailboxId, 'upsert', now);
    return { entryId, duplicate: false };
  }
}

/**
 * The SHA-256 the blob will be stored under, lower-cased, after checking it really is the hash of
 * the raw bytes: a wrong key would silently merge different messages.
 */
function checkedSha256(delivery: Delivery): string {
  const actual = createHash('sha256').update(delivery.raw).digest('hex');
  if (String(delivery.sha256).toLowerCase() !== actual) {
    throw new InputError(`delivery.sha256: ${delivery.sha256} is not the SHA-256 of the raw bytes (${actual})`);
  }
  return actual;
}

/**
 * Named parameters for the entry row. The entry size counts the prepended headers too: it is the
 * size of the message a mail client sees, which is what quota and listings should reflect.
 */
function entryParams(delivery: Delivery, id: string, now: number): Record<string, unknown> {
  const { summary } = delivery;
  return {
    id,
    mailboxId: delivery.mailboxId,
    folder: delivery.folder,
    sha256: delivery.sha256,
    size: Buffer.byteLength(delivery.prependHeaders, 'utf8') + delivery.raw.length,
    flags: JSON.stringify(delivery.flags),
    tags: JSON.stringify(delivery.tags),
    importance: delivery.importance,
    spamScore: delivery.spamScore,
    threadId: delivery.threadId,
    subject: summary.subject,
    from: summary.from,
    to: JSON.stringify(summary.to),
    cc: JSON.stringify(summary.cc),
    // An unparseable Date header becomes an Invalid Date upstream; store it as unknown.
    date: summary.date && Number.isFinite(summary.date.getTime()) ? summary.date.getTime() : null,
    messageId: summary.messageId,
    attachments: JSON.stringify(summary.attachments),
    prependHeaders: delivery.prependHeaders,
    envelope: JSON.stringify(delivery.envelope),
    receivedAt: now,
  };
}
