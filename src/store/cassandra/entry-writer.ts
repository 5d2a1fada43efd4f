import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { InputError, StoreError } from '../../errors.js';
import type { Delivery, DeliveryResult, Mailbox } from '../types.js';
import type { BlobStore } from './blob-store.js';
import type { CassandraSession } from './cassandra-session.js';
import type { MailboxDirectory } from './mailbox-directory.js';
import { nextOutboxVersion, type OutboxQueue } from './outbox-queue.js';
import { ENTRY_COLUMNS, entryParams, LEDGER_COLUMNS, ledgerParams, toNumber } from './row-mappers.js';

// Monotonic so entries delivered within one millisecond still sort in arrival order.
const newEntryId = monotonicFactory();

/** The dedupe claim of (mailbox, sha256): what the first attempt fixed for every later one. */
interface Claim {
  /** This call inserted the claim (it is the first attempt). */
  won: boolean;
  committed: boolean;
  entryId: string;
  version: number;
  folder: string;
  receivedAt: Date;
}

/**
 * Writes deliveries. Cassandra has no multi-partition transaction, so a delivery is made
 * idempotent instead: the dedupe claim (a lightweight transaction) fixes the entry id, and every
 * later write is a plain upsert of fixed values, written in an order that keeps readers safe:
 * blob (head last) → ledger, recipient, folder, entry by id → folder listing → outbox → commit
 * mark. A failure anywhere answers 451; the MTA's retry finds the claim uncommitted and writes
 * the same rows again, so it ends with exactly one entry. 250 is answered only after every write
 * was acknowledged at the configured consistency.
 */
export class EntryWriter {
  private readonly sql: Record<string, string>;

  constructor(
    private readonly session: CassandraSession,
    private readonly directory: MailboxDirectory,
    private readonly blobs: BlobStore,
    private readonly outbox: OutboxQueue,
  ) {
    const t = (name: string) => session.table(name);
    this.sql = {
      claim: `INSERT INTO ${t('entries_by_sha')} (mailbox_id, sha256, entry_id, version, folder, received_at)
        VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      delivered: `SELECT entry_id, committed FROM ${t('entries_by_sha')} WHERE mailbox_id = ? AND sha256 = ?`,
      commit: `UPDATE ${t('entries_by_sha')} SET committed = true WHERE mailbox_id = ? AND sha256 = ?`,
      usage: `UPDATE ${t('mailbox_usage')} SET bytes = bytes + ? WHERE mailbox_id = ?`,
      ledger: `INSERT INTO ${t('ledger')} (entry_id, seq, ${LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      recipient: `INSERT INTO ${t('mailboxes_by_message')} (sha256, mailbox_id, entry_id) VALUES (?, ?, ?)`,
      folder: `INSERT INTO ${t('mailbox_folders')} (mailbox_id, folder) VALUES (?, ?)`,
      byId: `INSERT INTO ${t('entries_by_id')} (${ENTRY_COLUMNS}, prepend_headers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      byFolder: `INSERT INTO ${t('entries_by_folder')} (${ENTRY_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    };
  }

  /** Stores one delivery; resolves once every write is acknowledged. */
  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    const sha256 = checkedSha256(delivery);
    const mailbox = await this.directory.mailboxById(delivery.mailboxId);
    if (!mailbox) throw new StoreError(`deliver: mailbox ${delivery.mailboxId} does not exist`);
    const claim = await this.claim(delivery, sha256);
    if (claim.committed) return { entryId: claim.entryId, duplicate: true };
    const size = Buffer.byteLength(delivery.prependHeaders, 'utf8') + delivery.raw.length;
    // Counters are not idempotent: only the first attempt counts the bytes, and the driver
    // never retries the update (see schema.ts).
    if (claim.won) await this.session.execute(this.sql.usage, [size, mailbox.id], { idempotent: false });
    await this.blobs.put(sha256, delivery.raw);
    await this.writeRows({ ...delivery, sha256 }, mailbox, claim, size);
    await this.session.execute(this.sql.commit, [mailbox.id, sha256], { idempotent: true });
    return { entryId: claim.entryId, duplicate: !claim.won };
  }

  /** The entry of a committed delivery of these bytes to the mailbox; an uncommitted claim is no delivery yet. */
  async findDelivered(mailboxId: string, sha256: string): Promise<string | null> {
    const result = await this.session.execute(this.sql.delivered, [mailboxId, String(sha256).toLowerCase()], { idempotent: true });
    const row = result.first();
    return row && row.get('committed') === true ? (row.get('entry_id') as string) : null;
  }

  /** Inserts the claim, or reads the one a previous (or concurrent) attempt made. */
  private async claim(delivery: Delivery, sha256: string): Promise<Claim> {
    const now = Date.now();
    // An entry copied by hermod migrate-data keeps its id and arrival time.
    const mine = {
      entryId: delivery.imported?.entryId ?? newEntryId(now),
      version: nextOutboxVersion(now),
      folder: delivery.folder,
      receivedAt: delivery.imported?.receivedAt ?? new Date(now),
    };
    const { applied, row } = await this.session.lwt(this.sql.claim, [
      delivery.mailboxId, sha256, mine.entryId, mine.version, mine.folder, mine.receivedAt,
    ]);
    if (applied) return { won: true, committed: false, ...mine };
    return {
      won: false,
      committed: row.get('committed') === true,
      entryId: row.get('entry_id') as string,
      version: toNumber(row.get('version')),
      folder: row.get('folder') as string,
      receivedAt: row.get('received_at') as Date,
    };
  }

  /** Every row of the entry, under the claimed id, in an order that keeps readers safe. */
  private async writeRows(delivery: Delivery, mailbox: Mailbox, claim: Claim, size: number): Promise<void> {
    const { entryId } = claim;
    const values = entryParams({
      entryId,
      mailboxId: mailbox.id,
      mailboxAddress: mailbox.address,
      folder: claim.folder,
      size,
      receivedAt: claim.receivedAt,
      delivery,
    });
    const ledger = delivery.ledger.map((line, seq) => ({ query: this.sql.ledger, params: ledgerParams(entryId, seq, line) }));
    // A migrated entry is indexed by the migration's bulk rebuild, not through the outbox.
    const outbox = delivery.imported
      ? []
      : this.outbox.statements({ entryId, mailboxId: mailbox.id, op: 'upsert', version: claim.version });
    const once = { idempotent: true };
    const run = (s: { query: string; params: unknown[] } | undefined) => s && this.session.execute(s.query, s.params, once);
    await Promise.all([
      // One partition: the batch is applied atomically.
      ledger.length > 0 ? this.session.batch(ledger, 'unlogged') : undefined,
      this.session.execute(this.sql.recipient, [delivery.sha256, mailbox.id, entryId], once),
      this.session.execute(this.sql.folder, [mailbox.id, claim.folder], once),
      this.session.execute(this.sql.byId, [...values, delivery.prependHeaders], once),
      run(outbox[0]), // the outbox bucket marker
    ]);
    // Listed only once fetchable; indexed only once listed.
    await this.session.execute(this.sql.byFolder, values, once);
    await run(outbox[1]); // the outbox item
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
