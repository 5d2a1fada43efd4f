import type Database from 'better-sqlite3';
import { monotonicFactory } from 'ulid';
import { InputError, StoreError } from '../../errors.js';
import { sha256Of } from '../../mail/message-digest.js';
import { pooledRandom } from '../pooled-random.js';
import type { Delivery, DeliveryResult } from '../types.js';
import type { BlobFiles } from './blob-files.js';
import type { OutboxQueue } from './outbox-queue.js';

/** A delivery as the store writes it: `inFile` when its raw bytes were made durable as a BlobFiles file. */
export type StoredDelivery = Delivery & { inFile?: boolean };

const NO_BYTES = Buffer.alloc(0);

// Monotonic so entries delivered within one millisecond still sort in arrival order.
const newEntryId = monotonicFactory(pooledRandom());

/**
 * Writes deliveries. Each delivery is one SQLite transaction: the blob (once per SHA-256), the
 * entry, its ledger and its outbox row commit together, or nothing does.
 */
export class EntryWriter {
  private readonly mailboxExists: Database.Statement;
  private readonly existing: Database.Statement;
  private readonly insertBlob: Database.Statement;
  private readonly blobInFile: Database.Statement;
  private readonly insertEntry: Database.Statement;
  private readonly insertLedger: Database.Statement;
  private readonly write: (delivery: StoredDelivery) => DeliveryResult;

  constructor(
    db: Database.Database,
    private readonly outbox: OutboxQueue,
    private readonly blobs: BlobFiles | null,
  ) {
    this.mailboxExists = db.prepare('SELECT 1 FROM mailboxes WHERE id = ?');
    this.existing = db.prepare('SELECT id FROM mailbox_entries WHERE mailbox_id = ? AND sha256 = ?');
    this.insertBlob = db.prepare('INSERT OR IGNORE INTO messages (sha256, raw, size, in_file) VALUES (?, ?, ?, ?)');
    this.blobInFile = db.prepare('SELECT in_file FROM messages WHERE sha256 = ?');
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
    const tx = db.transaction((delivery: StoredDelivery) => this.writeOnce(delivery));
    this.write = (delivery) => tx.immediate(delivery);
    // A batch is first written without a savepoint per delivery (a SAVEPOINT and RELEASE per
    // delivery was a large share of the commit's CPU). If any delivery throws, better-sqlite3
    // rolls the whole transaction back and the batch is written again with each delivery in its
    // own savepoint (a nested transaction function), so one failing delivery fails only itself.
    // Only a delivery's own failure is worth the second pass: a failed BEGIN (busy) or COMMIT
    // (disk full) would fail again, and fails the whole batch as it did before.
    let deliveryFailed = false;
    const whole = db.transaction((deliveries: StoredDelivery[]) =>
      deliveries.map((d) => {
        try {
          return this.writeOnce(d);
        } catch (err) {
          deliveryFailed = true;
          throw err;
        }
      }),
    );
    const isolated = db.transaction((deliveries: StoredDelivery[]) =>
      deliveries.map((d): DeliveryResult | Error => {
        try {
          return tx(d);
        } catch (err) {
          return err as Error;
        }
      }),
    );
    this.writeBatch = (deliveries) => {
      deliveryFailed = false;
      try {
        return whole.immediate(deliveries);
      } catch (err) {
        if (!deliveryFailed) throw err;
        this.isolatedRetries++;
        return isolated.immediate(deliveries);
      }
    };
  }

  /** Batches written again delivery by delivery after one of them failed (for tests and metrics). */
  isolatedRetries = 0;

  private readonly writeBatch: (deliveries: StoredDelivery[]) => (DeliveryResult | Error)[];

  /** The entry a committed delivery of these bytes made in the mailbox, or null. */
  findDelivered(mailboxId: string, sha256: string): string | null {
    const row = this.existing.get(mailboxId, String(sha256).toLowerCase()) as { id: string } | undefined;
    return row?.id ?? null;
  }

  /** Stores one delivery; returns once committed (synchronous=FULL makes the commit durable). */
  deliver(delivery: StoredDelivery): DeliveryResult {
    const sha256 = checkedSha256(delivery);
    return this.write({ ...delivery, sha256 });
  }

  /**
   * Stores several deliveries with one commit (one fsync). Each result is that delivery's own
   * outcome; a failed commit throws, and then none of them is stored.
   */
  deliverMany(deliveries: StoredDelivery[]): (DeliveryResult | Error)[] {
    const checked = deliveries.map((d): StoredDelivery | Error => {
      try {
        return { ...d, sha256: checkedSha256(d) };
      } catch (err) {
        return err as Error;
      }
    });
    const valid = checked.filter((d): d is StoredDelivery => !(d instanceof Error));
    const written = valid.length ? this.writeBatch(valid) : [];
    let next = 0;
    return checked.map((d) => (d instanceof Error ? d : written[next++]));
  }

  private writeOnce(delivery: StoredDelivery): DeliveryResult {
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
    const inFile = delivery.inFile === true;
    this.insertBlob.run(sha256, inFile ? NO_BYTES : delivery.raw, delivery.raw.length, inFile ? 1 : 0);
    this.checkBlobFile(sha256);
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

  /**
   * Under the write lock, before the commit that refers to it: the bytes kept as a file (by this
   * delivery or an earlier one) must still be there; a deletion may have removed an unreferenced
   * file between the write of this copy and now. Missing, the delivery fails (a 451, retried).
   */
  private checkBlobFile(sha256: string): void {
    const row = this.blobInFile.get(sha256) as { in_file: number };
    if (row.in_file === 1 && !this.blobs?.exists(sha256)) {
      throw new StoreError(`deliver: the file of raw message ${sha256} is missing (removed meanwhile); try again`);
    }
  }
}

/**
 * The SHA-256 the blob will be stored under, lower-cased, after checking it really is the hash of
 * the raw bytes: a wrong key would silently merge different messages.
 */
function checkedSha256(delivery: Delivery): string {
  const actual = sha256Of(delivery.raw);
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
