import type Database from 'better-sqlite3';
import { HermodError, StoreError } from '../../errors.js';
import { sha256Of } from '../../mail/message-digest.js';
import type { MessageStore } from '../message-store.js';
import type {
  BayesCounts,
  BayesLabel,
  BayesLearning,
  BayesLearnResult,
  ClassificationUpdate,
  Delivery,
  DeliveryResult,
  Domain,
  EntryDeletion,
  FolderSummary,
  LedgerLine,
  ListEntriesOptions,
  Mailbox,
  MailboxEntry,
  NewMailbox,
  OutboxItem,
} from '../types.js';
import { BayesTokens } from './bayes-tokens.js';
import { BlobFiles } from './blob-files.js';
import { EntryReader, type RawRow } from './entry-reader.js';
import { EntryRemover } from './entry-remover.js';
import { canonicalFolder } from '../input-checks.js';
import { EntryUpdater } from './entry-updater.js';
import { EntryWriter, type StoredDelivery } from './entry-writer.js';
import { GroupCommit } from './group-commit.js';
import { MailboxDirectory } from './mailbox-directory.js';
import { MailboxPasswords } from './mailbox-passwords.js';
import { applyMigrations } from './migrations.js';
import { openDatabase } from './open-database.js';
import { OutboxQueue } from './outbox-queue.js';
import { WalSync } from './wal-sync.js';

/** Options for {@link SqliteMessageStore}. */
export interface SqliteMessageStoreOptions {
  /** Database file; parent directories are created. `':memory:'` gives a private in-memory store. */
  file: string;
  /**
   * How long a write waits for another connection's lock before failing with a StoreError.
   * @defaultValue 5000
   */
  busyTimeoutMs?: number;
  /**
   * Raw messages larger than this many bytes are content-addressed files in `blobDir` (see
   * BlobFiles), not rows. Not used by a `':memory:'` store. @defaultValue 1048576
   */
  fileThresholdBytes?: number;
  /** Where those files go. @defaultValue `<file>.blobs` */
  blobDir?: string;
}

/** A file no row refers to is swept at open once this old: a younger one may be about to be committed. */
const SWEEP_MIN_AGE_MS = 10 * 60 * 1000;

/** The parts that exist only while the database is open. */
interface OpenState {
  db: Database.Database;
  directory: MailboxDirectory;
  writer: EntryWriter;
  reader: EntryReader;
  outbox: OutboxQueue;
  commits: GroupCommit<StoredDelivery, DeliveryResult>;
  wal: WalSync;
  blobs: BlobFiles | null;
  updater: EntryUpdater;
  bayes: BayesTokens;
  passwords: MailboxPasswords;
  remover: EntryRemover;
}

/** Deliveries share commits; each batch is committed without a blocking fsync and synced off the event loop. */
function deliveryCommits(wal: WalSync, writer: EntryWriter): GroupCommit<StoredDelivery, DeliveryResult> {
  return new GroupCommit((batch: StoredDelivery[]) => wal.unsynced(() => writer.deliverMany(batch)), 256, () => wal.durable());
}

/**
 * The embedded message store: one SQLite file in WAL mode with synchronous=FULL, so a delivery
 * is on disk when `deliver` resolves (deliveries reach the disk through WalSync's fsync off the
 * event loop, with the same guarantee). better-sqlite3 is synchronous; the methods are async only to
 * honour the MessageStore contract shared with networked adapters.
 */
export class SqliteMessageStore implements MessageStore {
  private readonly file: string;
  private readonly busyTimeoutMs: number;
  private readonly blobDir: string | null;
  private readonly fileThresholdBytes: number;
  private state: OpenState | null = null;

  constructor(options: SqliteMessageStoreOptions) {
    this.file = options.file;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.blobDir = options.file === ':memory:' ? null : (options.blobDir ?? `${options.file}.blobs`);
    this.fileThresholdBytes = options.fileThresholdBytes ?? 1024 * 1024;
  }

  /** Opens the file, sets the durability pragmas and applies pending migrations. Idempotent. */
  async init(): Promise<void> {
    if (this.state) return;
    let db: Database.Database | undefined;
    try {
      db = openDatabase(this.file, this.busyTimeoutMs);
      applyMigrations(db);
      const outbox = new OutboxQueue(db);
      const wal = new WalSync(db, this.file);
      const blobs = this.blobDir === null ? null : new BlobFiles(this.blobDir, this.fileThresholdBytes);
      const writer = new EntryWriter(db, outbox, blobs);
      const reader = new EntryReader(db);
      const bayes = new BayesTokens(db);
      const remover = new EntryRemover(db, outbox, reader, blobs);
      remover.sweepFiles(SWEEP_MIN_AGE_MS);
      this.state = {
        db,
        outbox,
        directory: new MailboxDirectory(db, outbox, bayes),
        writer,
        reader,
        wal,
        commits: deliveryCommits(wal, writer),
        blobs,
        updater: new EntryUpdater(db, outbox, reader),
        bayes,
        passwords: new MailboxPasswords(db),
        remover,
      };
    } catch (err) {
      db?.close();
      throw asStoreError(`open ${this.file}`, err);
    }
  }

  /** Closes the database. Safe to call twice; any later call fails with a StoreError. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = null;
    await state?.wal.close();
    state?.db.close();
  }

  async addDomain(name: string): Promise<Domain> {
    return this.run('addDomain', (s) => s.directory.addDomain(name));
  }

  async listDomains(): Promise<Domain[]> {
    return this.run('listDomains', (s) => s.directory.listDomains());
  }

  async removeDomain(name: string): Promise<void> {
    return this.run('removeDomain', (s) => s.directory.removeDomain(name));
  }

  async isLocalDomain(name: string): Promise<boolean> {
    return this.run('isLocalDomain', (s) => s.directory.isLocalDomain(name));
  }

  async addMailbox(mailbox: NewMailbox): Promise<Mailbox> {
    return this.run('addMailbox', (s) => s.directory.addMailbox(mailbox));
  }

  async listMailboxes(domain?: string): Promise<Mailbox[]> {
    return this.run('listMailboxes', (s) => s.directory.listMailboxes(domain));
  }

  async removeMailbox(address: string): Promise<void> {
    const dropped = this.run('removeMailbox', (s) => s.directory.removeMailbox(address));
    try {
      this.state?.remover.removeFiles(dropped);
    } catch {
      // Committed already; files left behind are swept at the next open (see EntryRemover).
    }
  }

  async resolveAddress(address: string): Promise<Mailbox | null> {
    return this.run('resolveAddress', (s) => s.directory.resolveAddress(address));
  }

  async setPassword(address: string, hash: string | null): Promise<void> {
    return this.run('setPassword', (s) => s.passwords.setPassword(address, hash));
  }

  async getPasswordHash(address: string): Promise<string | null> {
    return this.run('getPasswordHash', (s) => s.passwords.getPasswordHash(address));
  }

  /** Sum of entry sizes; an entry's size is its prepended headers plus its raw bytes. */
  async mailboxUsage(mailboxId: string): Promise<number> {
    return this.run('mailboxUsage', (s) => s.reader.usageOf(mailboxId));
  }

  /** Concurrent deliveries share one commit (see GroupCommit); each resolves once durable. */
  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    const state = this.state;
    if (!state) throw new StoreError('deliver: the message store is not open');
    try {
      const stored = await this.placeRaw(state, { ...delivery, folder: canonicalFolder(delivery.folder) });
      return await state.commits.submit(stored);
    } catch (err) {
      throw asStoreError('deliver', err);
    }
  }

  /**
   * A large raw message becomes a durable file before its delivery joins a commit (BlobFiles);
   * copied from the DATA spool when the delivery names it. A delivery whose sha256 is not the
   * hash of its bytes is left to the writer, which refuses it.
   */
  private async placeRaw(state: OpenState, delivery: Delivery): Promise<StoredDelivery> {
    const { blobs } = state;
    if (!blobs?.wants(delivery.raw.length)) return delivery;
    const sha256 = sha256Of(delivery.raw);
    if (String(delivery.sha256).toLowerCase() !== sha256) return delivery;
    await blobs.put(sha256, delivery.raw, delivery.rawFile);
    return { ...delivery, inFile: true };
  }

  async findDelivered(mailboxId: string, sha256: string): Promise<string | null> {
    return this.run('findDelivered', (s) => s.writer.findDelivered(mailboxId, sha256));
  }

  async listEntries(options: ListEntriesOptions): Promise<MailboxEntry[]> {
    const folder = options.folder === undefined ? undefined : canonicalFolder(options.folder);
    return this.run('listEntries', (s) => s.reader.list({ ...options, folder }));
  }

  async listFolders(mailboxId: string): Promise<FolderSummary[]> {
    return this.run('listFolders', (s) => s.remover.listFolders(mailboxId));
  }

  async deleteEntry(entryId: string): Promise<EntryDeletion> {
    return this.run('deleteEntry', (s) => s.remover.deleteEntry(entryId));
  }

  async getEntry(entryId: string): Promise<MailboxEntry | null> {
    return this.run('getEntry', (s) => s.reader.get(entryId));
  }

  async getRaw(sha256: string): Promise<Buffer | null> {
    const row = this.run('getRaw', (s) => s.reader.getRaw(sha256));
    return row ? this.bytesOf(row) : null;
  }

  /** Entries one by one: each is one indexed read of the local file, no round trip to save. */
  async getEntries(entryIds: readonly string[]): Promise<Map<string, MailboxEntry>> {
    return this.run('getEntries', (s) => {
      const found = new Map<string, MailboxEntry>();
      for (const id of new Set(entryIds)) {
        const entry = s.reader.get(id);
        if (entry) found.set(id, entry);
      }
      return found;
    });
  }

  async getRaws(sha256s: readonly string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    for (const sha256 of new Set(sha256s.map((sha) => String(sha).toLowerCase()))) {
      const raw = await this.getRaw(sha256);
      if (raw) found.set(sha256, raw);
    }
    return found;
  }

  /** Hermod's prepended headers followed by the raw bytes, untouched. */
  async getFullMessage(entryId: string): Promise<Buffer | null> {
    const full = this.run('getFullMessage', (s) => s.reader.getFull(entryId));
    if (!full) return null;
    const headers = Buffer.from(full.prependHeaders, 'utf8');
    if (full.raw.inFile) return this.bytesOf(full.raw, headers);
    return Buffer.concat([headers, full.raw.raw], headers.length + full.raw.raw.length);
  }

  /** The raw bytes of a row, after `prefix`: from the row, or read from its file. */
  private async bytesOf(row: RawRow, prefix = Buffer.alloc(0)): Promise<Buffer> {
    if (!row.inFile) return prefix.length ? Buffer.concat([prefix, row.raw]) : row.raw;
    const blobs = this.state?.blobs;
    if (!blobs) throw new StoreError(`getRaw: raw message ${row.sha256} is a file, but this store has no blob directory`);
    try {
      return await blobs.readAfter(row.sha256, prefix);
    } catch (err) {
      throw asStoreError(`read the file of raw message ${row.sha256}`, err);
    }
  }

  async getLedger(entryId: string): Promise<LedgerLine[]> {
    return this.run('getLedger', (s) => s.reader.getLedger(entryId));
  }

  async pendingOutbox(limit: number): Promise<OutboxItem[]> {
    return this.run('pendingOutbox', (s) => s.outbox.pending(limit, Date.now()));
  }

  /**
   * Committed without an fsync of its own: the documents were made durable before the indexer
   * acknowledges them, and an acknowledgement lost in a power cut only replays those items, which
   * the index's external versioning turns into no-ops. The next synced commit carries it to disk.
   * With synchronous=FULL here, every indexer batch blocked the event loop for one fsync.
   */
  async ackOutbox(seqs: number[]): Promise<void> {
    return this.run('ackOutbox', (s) => s.wal.unsynced(() => s.outbox.ack(seqs)));
  }

  async failOutbox(seqs: number[]): Promise<void> {
    return this.run('failOutbox', (s) => s.outbox.fail(seqs, Date.now()));
  }

  async outboxLength(): Promise<number> {
    return this.run('outboxLength', (s) => s.outbox.length());
  }

  async moveEntry(entryId: string, folder: string, note?: LedgerLine): Promise<MailboxEntry> {
    return this.run('moveEntry', (s) => s.updater.move(entryId, folder, note));
  }

  async updateClassification(entryId: string, update: ClassificationUpdate): Promise<MailboxEntry> {
    return this.run('updateClassification', (s) => s.updater.updateClassification(entryId, update));
  }

  async bayesLookup(scope: string, tokens: string[]): Promise<Map<string, BayesCounts>> {
    return this.run('bayesLookup', (s) => s.bayes.lookup(scope, tokens));
  }

  async bayesTotals(scope: string): Promise<BayesCounts> {
    return this.run('bayesTotals', (s) => s.bayes.totals(scope));
  }

  async bayesLearn(learning: BayesLearning): Promise<BayesLearnResult[]> {
    return this.run('bayesLearn', (s) => s.bayes.learn(learning));
  }

  async bayesLabel(scope: string, sha256: string): Promise<BayesLabel | null> {
    return this.run('bayesLabel', (s) => s.bayes.label(scope, sha256));
  }

  /**
   * Runs one operation against the open database. Coded errors (InputError, NotFoundError) pass
   * through; anything else (SQLITE_BUSY, SQLITE_FULL, I/O) becomes a StoreError, which the
   * listeners turn into a 451 for the recipient.
   */
  private run<T>(operation: string, fn: (state: OpenState) => T): T {
    if (!this.state) throw new StoreError(`${operation}: the message store is not open`);
    try {
      return fn(this.state);
    } catch (err) {
      throw asStoreError(operation, err);
    }
  }
}

function asStoreError(operation: string, err: unknown): HermodError {
  if (err instanceof HermodError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return new StoreError(`${operation} failed: ${detail}${typeof code === 'string' ? ` (${code})` : ''}`, {
    cause: err,
  });
}
