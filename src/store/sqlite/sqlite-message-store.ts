import type Database from 'better-sqlite3';
import { HermodError, StoreError } from '../../errors.js';
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
import { EntryReader } from './entry-reader.js';
import { EntryRemover } from './entry-remover.js';
import { canonicalFolder } from '../input-checks.js';
import { EntryUpdater } from './entry-updater.js';
import { EntryWriter } from './entry-writer.js';
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
}

/** The parts that exist only while the database is open. */
interface OpenState {
  db: Database.Database;
  directory: MailboxDirectory;
  writer: EntryWriter;
  reader: EntryReader;
  outbox: OutboxQueue;
  commits: GroupCommit<Delivery, DeliveryResult>;
  wal: WalSync;
  updater: EntryUpdater;
  bayes: BayesTokens;
  passwords: MailboxPasswords;
  remover: EntryRemover;
}

/** Deliveries share commits; each batch is committed without a blocking fsync and synced off the event loop. */
function deliveryCommits(wal: WalSync, writer: EntryWriter): GroupCommit<Delivery, DeliveryResult> {
  return new GroupCommit((batch: Delivery[]) => wal.unsynced(() => writer.deliverMany(batch)), 256, () => wal.durable());
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
  private state: OpenState | null = null;

  constructor(options: SqliteMessageStoreOptions) {
    this.file = options.file;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
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
      const writer = new EntryWriter(db, outbox);
      const reader = new EntryReader(db);
      const bayes = new BayesTokens(db);
      this.state = {
        db,
        outbox,
        directory: new MailboxDirectory(db, outbox, bayes),
        writer,
        reader,
        wal,
        commits: deliveryCommits(wal, writer),
        updater: new EntryUpdater(db, outbox, reader),
        bayes,
        passwords: new MailboxPasswords(db),
        remover: new EntryRemover(db, outbox, reader),
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
    return this.run('removeMailbox', (s) => s.directory.removeMailbox(address));
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
    if (!this.state) throw new StoreError('deliver: the message store is not open');
    try {
      return await this.state.commits.submit({ ...delivery, folder: canonicalFolder(delivery.folder) });
    } catch (err) {
      throw asStoreError('deliver', err);
    }
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
    return this.run('getRaw', (s) => s.reader.getRaw(sha256));
  }

  async getFullMessage(entryId: string): Promise<Buffer | null> {
    return this.run('getFullMessage', (s) => s.reader.getFull(entryId));
  }

  async getLedger(entryId: string): Promise<LedgerLine[]> {
    return this.run('getLedger', (s) => s.reader.getLedger(entryId));
  }

  async pendingOutbox(limit: number): Promise<OutboxItem[]> {
    return this.run('pendingOutbox', (s) => s.outbox.pending(limit, Date.now()));
  }

  async ackOutbox(seqs: number[]): Promise<void> {
    return this.run('ackOutbox', (s) => s.outbox.ack(seqs));
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
