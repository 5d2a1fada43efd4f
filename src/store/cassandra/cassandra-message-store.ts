import type cassandra from 'cassandra-driver';
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
import { BayesTokens, DEFAULT_BAYES_TOTALS_CACHE_MS } from './bayes-tokens.js';
import { DEFAULT_BAYES_TOKENS_CACHE_MS } from './bayes-token-reads.js';
import { BlobStore } from './blob-store.js';
import { CassandraSession } from './cassandra-session.js';
import type { CassandraStoreConfig } from './config-schema.js';
import { canonicalFolder } from '../input-checks.js';
import { EntryReader } from './entry-reader.js';
import { EntryRemover } from './entry-remover.js';
import { EntryUpdater } from './entry-updater.js';
import { EntryWriter } from './entry-writer.js';
import { DEFAULT_ADDRESS_CACHE_MS, MailboxDirectory } from './mailbox-directory.js';
import { MailboxPasswords } from './mailbox-passwords.js';
import { MailboxRemoval } from './mailbox-removal.js';
import { applyCassandraMigrations, checkCassandraSchema } from './migrations.js';
import { OutboxQueue, OUTBOX_SEAL_AFTER_MS } from './outbox-queue.js';

/** Options for {@link CassandraMessageStore}: the `store.cassandra` config, plus test hooks. */
export type CassandraMessageStoreOptions = Omit<CassandraStoreConfig, 'username' | 'password' | 'addressCacheMs' | 'bayesTotalsCacheMs' | 'bayesTokensCacheMs'> & {
  username?: string;
  password?: string;
  /** See the config key; @defaultValue 2000 */
  addressCacheMs?: number;
  /** See the config key; @defaultValue 5000 */
  bayesTotalsCacheMs?: number;
  /** See the config key; @defaultValue 30000 */
  bayesTokensCacheMs?: number;
  /** Sees every request with its execution options (tests). */
  requestTracker?: cassandra.tracker.RequestTracker;
  /**
   * How long after its minute a drained outbox bucket is forgotten. @defaultValue 600000
   */
  outboxSealAfterMs?: number;
  /** The time deliveries and the outbox go by, in ms (tests drive it). @defaultValue Date.now */
  clock?: () => number;
};

/** The parts that exist only while connected. */
interface OpenState {
  session: CassandraSession;
  directory: MailboxDirectory;
  passwords: MailboxPasswords;
  blobs: BlobStore;
  reader: EntryReader;
  writer: EntryWriter;
  updater: EntryUpdater;
  outbox: OutboxQueue;
  bayes: BayesTokens;
  removal: MailboxRemoval;
  remover: EntryRemover;
}

/**
 * The distributed message store on Apache Cassandra (see schema.ts for the table design). Every
 * statement is prepared and runs at `consistency` (LOCAL_QUORUM by default); a delivery resolves
 * only when all its writes were acknowledged at that level. Any failure to reach or write to the
 * cluster becomes a StoreError, which the listeners answer with the storeFailure reply. The driver reconnects
 * on its own when nodes come back.
 */
export class CassandraMessageStore implements MessageStore {
  private state: OpenState | null = null;

  constructor(private readonly options: CassandraMessageStoreOptions) {}

  /** Connects, then migrates (`migrateOnStart`) or checks the schema version. Idempotent. */
  async init(): Promise<void> {
    if (this.state) return;
    const o = this.options;
    let session: CassandraSession | undefined;
    try {
      session = await CassandraSession.connect({ ...o });
      if (o.migrateOnStart) await applyCassandraMigrations(session, o.replication);
      else await checkCassandraSchema(session);
      this.state = assemble(session, o);
    } catch (err) {
      await session?.shutdown().catch(() => undefined);
      throw asStoreError(`open Cassandra keyspace ${o.keyspace} via ${o.contactPoints.join(', ')}`, err);
    }
  }

  /** Closes the connection pool. Safe to call twice; any later call fails with a StoreError. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = null;
    await state?.session.shutdown();
  }

  addDomain(name: string): Promise<Domain> {
    return this.run('addDomain', (s) => s.directory.addDomain(name));
  }

  listDomains(): Promise<Domain[]> {
    return this.run('listDomains', (s) => s.directory.listDomains());
  }

  removeDomain(name: string): Promise<void> {
    return this.run('removeDomain', (s) => s.directory.removeDomain(name));
  }

  isLocalDomain(name: string): Promise<boolean> {
    return this.run('isLocalDomain', (s) => s.directory.isLocalDomain(name));
  }

  addMailbox(mailbox: NewMailbox): Promise<Mailbox> {
    return this.run('addMailbox', (s) => s.directory.addMailbox(mailbox));
  }

  listMailboxes(domain?: string): Promise<Mailbox[]> {
    return this.run('listMailboxes', (s) => s.directory.listMailboxes(domain));
  }

  removeMailbox(address: string): Promise<void> {
    return this.run('removeMailbox', (s) => s.removal.remove(address));
  }

  resolveAddress(address: string): Promise<Mailbox | null> {
    return this.run('resolveAddress', (s) => s.directory.resolveAddress(address));
  }

  setPassword(address: string, hash: string | null): Promise<void> {
    return this.run('setPassword', (s) => s.passwords.setPassword(address, hash));
  }

  getPasswordHash(address: string): Promise<string | null> {
    return this.run('getPasswordHash', (s) => s.passwords.getPasswordHash(address));
  }

  /** From the mailbox's usage counter: prepended headers plus raw bytes of each entry. */
  mailboxUsage(mailboxId: string): Promise<number> {
    return this.run('mailboxUsage', (s) => s.reader.usageOf(mailboxId));
  }

  deliver(delivery: Delivery): Promise<DeliveryResult> {
    return this.run('deliver', (s) => s.writer.deliver({ ...delivery, folder: canonicalFolder(delivery.folder) }));
  }

  findDelivered(mailboxId: string, sha256: string): Promise<string | null> {
    return this.run('findDelivered', (s) => s.writer.findDelivered(mailboxId, sha256));
  }

  listEntries(options: ListEntriesOptions): Promise<MailboxEntry[]> {
    const folder = options.folder === undefined ? undefined : canonicalFolder(options.folder);
    return this.run('listEntries', (s) => s.reader.list({ ...options, folder }));
  }

  listFolders(mailboxId: string): Promise<FolderSummary[]> {
    return this.run('listFolders', (s) => s.remover.listFolders(mailboxId));
  }

  deleteEntry(entryId: string): Promise<EntryDeletion> {
    return this.run('deleteEntry', (s) => s.remover.deleteEntry(entryId));
  }

  getEntry(entryId: string): Promise<MailboxEntry | null> {
    return this.run('getEntry', (s) => s.reader.get(entryId));
  }

  getRaw(sha256: string): Promise<Buffer | null> {
    return this.run('getRaw', (s) => s.blobs.get(sha256));
  }

  /** Several entries in a few requests (a reader of many at once: the indexer's batch); missing ids are absent. */
  getEntries(entryIds: readonly string[]): Promise<Map<string, MailboxEntry>> {
    return this.run('getEntries', (s) => s.reader.getMany(entryIds));
  }

  /** Several raw messages in a few requests, by lower-case SHA-256; missing ones are absent. */
  getRaws(sha256s: readonly string[]): Promise<Map<string, Buffer>> {
    return this.run('getRaws', (s) => s.blobs.getMany(sha256s));
  }

  getFullMessage(entryId: string): Promise<Buffer | null> {
    return this.run('getFullMessage', (s) => s.reader.getFull(entryId));
  }

  getLedger(entryId: string): Promise<LedgerLine[]> {
    return this.run('getLedger', (s) => s.reader.getLedger(entryId));
  }

  pendingOutbox(limit: number): Promise<OutboxItem[]> {
    return this.run('pendingOutbox', (s) => s.outbox.pending(limit, this.now()));
  }

  ackOutbox(seqs: number[]): Promise<void> {
    return this.run('ackOutbox', (s) => s.outbox.ack(seqs));
  }

  failOutbox(seqs: number[]): Promise<void> {
    return this.run('failOutbox', (s) => s.outbox.fail(seqs, this.now()));
  }

  outboxLength(): Promise<number> {
    return this.run('outboxLength', (s) => s.outbox.length());
  }

  moveEntry(entryId: string, folder: string, note?: LedgerLine): Promise<MailboxEntry> {
    return this.run('moveEntry', (s) => s.updater.move(entryId, folder, note));
  }

  updateClassification(entryId: string, update: ClassificationUpdate): Promise<MailboxEntry> {
    return this.run('updateClassification', (s) => s.updater.updateClassification(entryId, update));
  }

  bayesLookup(scope: string, tokens: string[]): Promise<Map<string, BayesCounts>> {
    return this.run('bayesLookup', (s) => s.bayes.lookup(scope, tokens));
  }

  bayesTotals(scope: string): Promise<BayesCounts> {
    return this.run('bayesTotals', (s) => s.bayes.totals(scope));
  }

  bayesLearn(learning: BayesLearning): Promise<BayesLearnResult[]> {
    return this.run('bayesLearn', (s) => s.bayes.learn(learning));
  }

  bayesLabel(scope: string, sha256: string): Promise<BayesLabel | null> {
    return this.run('bayesLabel', (s) => s.bayes.label(scope, sha256));
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /**
   * Runs one operation. Coded errors (InputError, NotFoundError) pass through; anything else
   * (no host available, timeouts, unavailable replicas) becomes a StoreError.
   */
  private async run<T>(operation: string, fn: (state: OpenState) => Promise<T>): Promise<T> {
    const state = this.state;
    if (!state) throw new StoreError(`${operation}: the message store is not open`);
    try {
      return await fn(state);
    } catch (err) {
      throw asStoreError(operation, err);
    }
  }
}

function assemble(session: CassandraSession, options: CassandraMessageStoreOptions): OpenState {
  const directory = new MailboxDirectory(session, options.addressCacheMs ?? DEFAULT_ADDRESS_CACHE_MS);
  const blobs = new BlobStore(session, options.chunkBytes);
  const outbox = new OutboxQueue(session, options.outboxSealAfterMs ?? OUTBOX_SEAL_AFTER_MS);
  const reader = new EntryReader(session, blobs);
  const bayes = new BayesTokens(
    session,
    options.bayesTotalsCacheMs ?? DEFAULT_BAYES_TOTALS_CACHE_MS,
    options.bayesTokensCacheMs ?? DEFAULT_BAYES_TOKENS_CACHE_MS,
  );
  return {
    session,
    directory,
    passwords: new MailboxPasswords(session, directory),
    blobs,
    reader,
    outbox,
    bayes,
    writer: new EntryWriter(session, directory, blobs, outbox, options.clock),
    updater: new EntryUpdater(session, reader, outbox),
    removal: new MailboxRemoval({ session, directory, reader, outbox, blobs, bayes }),
    remover: new EntryRemover({ session, reader, outbox, blobs }),
  };
}

/** A HermodError as it is; anything else as a StoreError naming the operation and the cause. */
export function asStoreError(operation: string, err: unknown): HermodError {
  if (err instanceof HermodError) return err;
  const name = err instanceof Error ? err.name : 'Error';
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreError(`${operation} failed: ${detail} (${name})`, { cause: err });
}
