import type {
  Delivery,
  DeliveryResult,
  Domain,
  LedgerLine,
  ListEntriesOptions,
  Mailbox,
  MailboxEntry,
  NewMailbox,
  OutboxItem,
} from './types.js';

/**
 * The message store contract every adapter (SQLite, Cassandra) honours.
 *
 * - Addresses and domains are compared case-insensitively and stored lower-cased.
 * - `deliver` is one durable step: blob (once per SHA-256), the mailbox entry, its ledger and an
 *   outbox item for the indexer are all committed, or none is. It resolves only once durable.
 * - `deliver` is idempotent per (mailbox, sha256): the same bytes again return the first entry
 *   with `duplicate: true`.
 * - Every failure to read or write is a StoreError (transient); lookups of missing things return
 *   null, and admin operations on missing things throw NotFoundError.
 */
export interface MessageStore {
  init(): Promise<void>;
  close(): Promise<void>;

  addDomain(name: string): Promise<Domain>;
  listDomains(): Promise<Domain[]>;
  /** Refuses (InputError) while mailboxes of the domain exist. */
  removeDomain(name: string): Promise<void>;
  isLocalDomain(name: string): Promise<boolean>;

  /** The domain of the address must exist (InputError otherwise); address and aliases unique. */
  addMailbox(mailbox: NewMailbox): Promise<Mailbox>;
  listMailboxes(domain?: string): Promise<Mailbox[]>;
  removeMailbox(address: string): Promise<void>;
  /** Finds the mailbox by its address or one of its aliases. */
  resolveAddress(address: string): Promise<Mailbox | null>;
  /** Bytes used by the mailbox's entries. */
  mailboxUsage(mailboxId: string): Promise<number>;

  deliver(delivery: Delivery): Promise<DeliveryResult>;
  listEntries(options: ListEntriesOptions): Promise<MailboxEntry[]>;
  getEntry(entryId: string): Promise<MailboxEntry | null>;
  /** The raw bytes as received, or null. */
  getRaw(sha256: string): Promise<Buffer | null>;
  /** Hermod's added headers + the raw bytes: what a mail client would see. */
  getFullMessage(entryId: string): Promise<Buffer | null>;
  getLedger(entryId: string): Promise<LedgerLine[]>;

  /** Oldest pending outbox items, at most `limit`. */
  pendingOutbox(limit: number): Promise<OutboxItem[]>;
  /** Removes items the indexer has applied. */
  ackOutbox(seqs: number[]): Promise<void>;
  /** Records a failed attempt so the indexer can back off. */
  failOutbox(seqs: number[]): Promise<void>;
  outboxLength(): Promise<number>;
}
