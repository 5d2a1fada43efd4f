import { monotonicFactory } from 'ulid';
import { InputError, StoreError } from '../../errors.js';
import { sha256Of } from '../../mail/message-digest.js';
import { pooledRandom } from '../pooled-random.js';
import type { Delivery, DeliveryResult, Mailbox } from '../types.js';
import type { BlobStore } from './blob-store.js';
import type { BatchStatement, CassandraSession } from './cassandra-session.js';
import { EntryClaims, type ClaimValues } from './entry-claim.js';
import type { MailboxDirectory } from './mailbox-directory.js';
import { nextOutboxVersion, type OutboxQueue } from './outbox-queue.js';
import { ENTRY_COLUMNS, entryParams, LEDGER_COLUMNS, ledgerParams } from './row-mappers.js';
import { RecentValues } from './recent-values.js';
import { UsageCounter } from './usage-counter.js';

// Monotonic so entries delivered within one millisecond still sort in arrival order; randomness
// drawn in pools, as the SQLite writer does (ulid's default asks the OS once per character).
const newEntryId = monotonicFactory(pooledRandom());
/** How long "no commit record, no claim made by Paxos" from findDelivered spares the settle its read of it. */
const ABSENCE_FRESH_MS = 60_000;
/** Absences remembered at most (oldest dropped first). */
const ABSENCES_KEPT = 10_000;
/** Folder rows remembered as written at most (oldest dropped first). */
const FOLDERS_KEPT = 50_000;

/** Statements of one step of a delivery. */
type Step = BatchStatement[];

/** What every row of one attempt is made from, besides the claim. */
interface AttemptRows {
  delivery: Delivery;
  mailbox: Mailbox;
  /** Bytes the entry counts: prepended headers + raw. */
  size: number;
  /** When this attempt runs (ms): the minute its outbox item is filed under. */
  filedAt: number;
}

/**
 * Writes deliveries. Cassandra has no multi-partition transaction, so a delivery is made
 * idempotent instead, without a lightweight transaction on the way (docs/exactly-once.md):
 *
 * 1. one batch with the attempt's proposal for the claim (entry-claim.ts), the entry by id, its
 *    ledger, recipient, folder name, the outbox bucket marker and, when small, the blob (else the
 *    blob's own writes run beside it);
 * 2. the claim is read back: it names the entry every attempt writes from now on. A losing
 *    attempt drops the rows it wrote under its own id and writes the winner's;
 * 3. the folder listing and the outbox item (listed only once fetchable, indexed only once
 *    listed), and, by the winner only, the usage counter (group committed: usage-counter.ts);
 * 4. the commit record.
 *
 * A failure anywhere answers 451; the MTA's retry finds the claim uncommitted and writes the same
 * rows again under the claimed id, so it ends with exactly one entry. 250 is answered only after
 * every write was acknowledged at the configured consistency. Attempts of one delivery inside this
 * process are joined (a message to a mailbox and its alias in one transaction), so only attempts
 * from different nodes ever race on the claim.
 */
export class EntryWriter {
  private readonly sql: Record<string, string>;
  private readonly claims: EntryClaims;
  private readonly usage: UsageCounter;
  private readonly inFlight = new Map<string, Promise<DeliveryResult>>();
  /** (mailbox/sha256) keys for which findDelivered lately found no row at all in entries_by_sha. */
  private readonly absent: RecentValues<true>;
  /**
   * (mailbox/folder) rows of mailbox_folders this process wrote. The row only names a folder
   * partition and is deleted with its mailbox alone (whose id is never used again), so once
   * written it need not be written again with every delivery.
   */
  private readonly foldersWritten = new Set<string>();

  constructor(
    private readonly session: CassandraSession,
    private readonly directory: MailboxDirectory,
    private readonly blobs: BlobStore,
    private readonly outbox: OutboxQueue,
    private readonly clock: () => number = Date.now,
  ) {
    this.absent = new RecentValues(ABSENCE_FRESH_MS, ABSENCES_KEPT, clock);
    const t = (name: string) => session.table(name);
    this.claims = new EntryClaims(session);
    this.usage = new UsageCounter(session);
    this.sql = {
      delivered: `SELECT entry_id, committed FROM ${t('entries_by_sha')} WHERE mailbox_id = ? AND sha256 = ?`,
      ledger: `INSERT INTO ${t('ledger')} (entry_id, seq, ${LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      recipient: `INSERT INTO ${t('mailboxes_by_message')} (sha256, mailbox_id, entry_id) VALUES (?, ?, ?)`,
      folder: `INSERT INTO ${t('mailbox_folders')} (mailbox_id, folder) VALUES (?, ?)`,
      byId: `INSERT INTO ${t('entries_by_id')} (${ENTRY_COLUMNS}, prepend_headers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      byFolder: `INSERT INTO ${t('entries_by_folder')} (${ENTRY_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      dropById: `DELETE FROM ${t('entries_by_id')} WHERE entry_id = ?`,
      dropLedger: `DELETE FROM ${t('ledger')} WHERE entry_id = ?`,
    };
  }

  /** Stores one delivery; resolves once every write is acknowledged. */
  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    const sha256 = checkedSha256(delivery);
    const key = `${delivery.mailboxId}/${sha256}`;
    const running = this.inFlight.get(key);
    if (running) {
      // The same bytes to the same mailbox are being written right now: that attempt decides.
      const first = await running.catch(() => null);
      if (first) return { entryId: first.entryId, duplicate: true };
    }
    const attempt = this.attempt({ ...delivery, sha256 }, this.takeAbsent(key));
    this.inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      if (this.inFlight.get(key) === attempt) this.inFlight.delete(key);
    }
  }

  /** The entry of a committed delivery of these bytes to the mailbox; an uncommitted claim is no delivery yet. */
  async findDelivered(mailboxId: string, sha256: string): Promise<string | null> {
    const sha = String(sha256).toLowerCase();
    const result = await this.session.execute(this.sql.delivered, [mailboxId, sha], { idempotent: true });
    const row = result.first();
    if (!row) this.rememberAbsent(`${mailboxId}/${sha}`);
    return row && row.get('committed') === true ? (row.get('entry_id') as string) : null;
  }

  /**
   * The transaction asks findDelivered right before it delivers. When that found no row, the
   * settle need not read entries_by_sha again: a commit record made since belongs to an attempt
   * whose proposal is in entry_claims, which the settle reads anyway and follows (rewriting the
   * claimed entry's rows is idempotent), and a claim made by Paxos comes only from a Hermod older
   * than entry_claims, never in between. Spares one read per delivery.
   */
  private rememberAbsent(key: string): void {
    this.absent.set(key, true);
  }

  /** Whether findDelivered found no row for the key lately; forgets it either way (used once). */
  private takeAbsent(key: string): boolean {
    return this.absent.take(key) === true;
  }

  private async attempt(delivery: Delivery, recordAbsent: boolean): Promise<DeliveryResult> {
    const mailbox = await this.directory.mailboxById(delivery.mailboxId);
    if (!mailbox) throw new StoreError(`deliver: mailbox ${delivery.mailboxId} does not exist`);
    const now = this.clock();
    // An entry copied by hermod migrate-data keeps its id and arrival time.
    const mine: ClaimValues = {
      entryId: delivery.imported?.entryId ?? newEntryId(now),
      version: nextOutboxVersion(now),
      folder: delivery.folder,
      receivedAt: delivery.imported?.receivedAt ?? new Date(now),
    };
    const size = Buffer.byteLength(delivery.prependHeaders, 'utf8') + delivery.raw.length;
    const rows = { delivery, mailbox, size, filedAt: now };
    const proposal = this.claims.proposal(mailbox.id, delivery.sha256, mine);
    await this.blobs.putAlong(delivery.sha256, delivery.raw, (blobRows) =>
      this.session.batchOrEach([proposal, ...this.firstRows(rows, mine), ...blobRows]),
    );
    this.folderWritten(mailbox.id, mine.folder);
    if (!delivery.imported) this.outbox.markerWritten(now);
    const claim = await this.claims.settle(mailbox.id, delivery.sha256, mine, recordAbsent);
    if (!claim.won) {
      // A repeated import proposes the claimed id itself: its rows are the entry's, not its own.
      if (mine.entryId !== claim.entryId) await this.dropOwnRows(mine.entryId, rows, claim);
      if (claim.committed) return { entryId: claim.entryId, duplicate: true };
      // The winner may have died half-way: its entry is completed from here.
      await this.session.batchOrEach(this.firstRows(rows, claim));
      this.folderWritten(mailbox.id, claim.folder);
    }
    await Promise.all([
      this.session.batchOrEach(this.listingRows(rows, claim)),
      // Counters are not idempotent: only the winning attempt counts the bytes, and the driver
      // never retries the update (see schema.ts, usage-counter.ts). A lost increment lags; it
      // never runs ahead.
      claim.won ? this.usage.add(mailbox.id, size) : undefined,
    ]);
    await this.claims.commit(mailbox.id, delivery.sha256, claim);
    return { entryId: claim.entryId, duplicate: !claim.won };
  }

  /** Fetchable rows of the entry: by id, ledger, recipient, folder name, outbox bucket marker. */
  private firstRows(rows: AttemptRows, claim: ClaimValues): Step {
    const { delivery, mailbox } = rows;
    return [
      { query: this.sql.byId, params: [...this.values(rows, claim), delivery.prependHeaders] },
      ...delivery.ledger.map((line, seq) => ({ query: this.sql.ledger, params: ledgerParams(claim.entryId, seq, line) })),
      { query: this.sql.recipient, params: [delivery.sha256, mailbox.id, claim.entryId] },
      ...(this.foldersWritten.has(`${mailbox.id}/${claim.folder}`) ? [] : [{ query: this.sql.folder, params: [mailbox.id, claim.folder] }]),
      // A migrated entry is indexed by the migration's bulk rebuild, not through the outbox.
      ...(rows.delivery.imported ? [] : [this.outbox.marker(rows.filedAt)].filter((m) => m !== null)),
    ];
  }

  /** Remembers a folder row as written (its batch was acknowledged). */
  private folderWritten(mailboxId: string, folder: string): void {
    const key = `${mailboxId}/${folder}`;
    if (this.foldersWritten.has(key)) return;
    this.foldersWritten.add(key);
    if (this.foldersWritten.size > FOLDERS_KEPT) this.foldersWritten.delete(this.foldersWritten.values().next().value as string);
  }

  /** The folder listing and the outbox item, written once the entry is fetchable. */
  private listingRows(rows: AttemptRows, claim: ClaimValues): Step {
    const listing = { query: this.sql.byFolder, params: this.values(rows, claim) };
    if (rows.delivery.imported) return [listing];
    // Filed under the minute of this attempt, not of the claim: a retry that completes a delivery
    // after the claim's minute was sealed must land where the indexer still reads. The document
    // version stays the claim's.
    const change = { entryId: claim.entryId, mailboxId: rows.mailbox.id, op: 'upsert' as const, version: claim.version };
    return [listing, this.outbox.item(change, rows.filedAt)];
  }

  private values({ delivery, mailbox, size }: AttemptRows, claim: ClaimValues): unknown[] {
    return entryParams({
      entryId: claim.entryId,
      mailboxId: mailbox.id,
      mailboxAddress: mailbox.address,
      folder: claim.folder,
      size,
      receivedAt: claim.receivedAt,
      delivery,
    });
  }

  /**
   * A losing attempt's rows under its own id (never listed nor queued, so nobody reads them) go,
   * and the recipient row it overwrote names the claimed entry again.
   */
  private async dropOwnRows(entryId: string, { delivery, mailbox }: AttemptRows, claim: ClaimValues): Promise<void> {
    const once = { idempotent: true };
    await Promise.all([
      this.session.execute(this.sql.dropById, [entryId], once),
      this.session.execute(this.sql.dropLedger, [entryId], once),
      this.session.execute(this.sql.recipient, [delivery.sha256, mailbox.id, claim.entryId], once),
    ]);
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
