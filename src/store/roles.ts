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
} from './types.js';

/*
 * The message store seen by role. Each consumer receives the roles it uses (the transaction a
 * directory and the entries, the indexer the outbox, submission the credentials, the Bayes
 * plugin its tokens), never the whole store; an adapter implements all of them (MessageStore).
 * Addresses and domains are compared case-insensitively and stored lower-cased. Every failure
 * to read or write is a StoreError (transient); lookups of missing things return null, and
 * admin operations on missing things throw NotFoundError.
 */

/** Opening and closing the backend. */
export interface StoreLifecycle {
  init(): Promise<void>;
  close(): Promise<void>;
}

/** Domains and mailboxes: who Hermod takes mail for. */
export interface MailDirectory {
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
}

/**
 * Mailbox entries and the raw messages behind them.
 *
 * - `deliver` is one durable step: blob (once per SHA-256), the mailbox entry, its ledger and an
 *   outbox item for the indexer are all committed, or none is. It resolves only once durable.
 * - `deliver` is idempotent per (mailbox, sha256): the same bytes again return the first entry
 *   with `duplicate: true`.
 * - Changing an entry (`moveEntry`, `updateClassification`) records an outbox upsert in the same
 *   durable step, like `deliver`, so the search index follows.
 */
export interface EntryStore {
  deliver(delivery: Delivery): Promise<DeliveryResult>;
  /**
   * The id of the entry a completed delivery of these bytes made in this mailbox, or null. The
   * transaction asks this before any policy, so a retry after a lost reply answers 250 even when
   * the mailbox has filled up or the scoring changed since.
   */
  findDelivered(mailboxId: string, sha256: string): Promise<string | null>;
  listEntries(options: ListEntriesOptions): Promise<MailboxEntry[]>;
  getEntry(entryId: string): Promise<MailboxEntry | null>;
  /** The raw bytes as received, or null. */
  getRaw(sha256: string): Promise<Buffer | null>;
  /**
   * Several entries at once, by id (a reader of many: the indexer's batch), in as few requests as
   * the backend allows; missing ids are absent from the map, repeated ids read once.
   */
  getEntries(entryIds: readonly string[]): Promise<Map<string, MailboxEntry>>;
  /** Several raw messages at once, keyed by lower-case SHA-256; missing ones are absent. */
  getRaws(sha256s: readonly string[]): Promise<Map<string, Buffer>>;
  /** Hermod's added headers + the raw bytes: what a mail client would see. */
  getFullMessage(entryId: string): Promise<Buffer | null>;
  getLedger(entryId: string): Promise<LedgerLine[]>;
  /**
   * Moves an entry to another folder and records an outbox upsert; `note` is appended to its
   * ledger. Returns the entry as it now is. NotFoundError for an unknown id, InputError for an
   * empty folder name. Moving to the folder it is in changes nothing and queues nothing.
   */
  moveEntry(entryId: string, folder: string, note?: LedgerLine): Promise<MailboxEntry>;
  /**
   * Replaces an entry's tags and importance (and folder, when given), appends `note` to its
   * ledger and records an outbox upsert. Returns the entry as it now is. NotFoundError for an
   * unknown id, InputError for a bad folder, tag or importance.
   */
  updateClassification(entryId: string, update: ClassificationUpdate): Promise<MailboxEntry>;
}

/** The changes the search indexer has still to apply, written in the same step as the entries. */
export interface OutboxStore {
  /** Oldest pending outbox items, at most `limit`. */
  pendingOutbox(limit: number): Promise<OutboxItem[]>;
  /** Removes items the indexer has applied. */
  ackOutbox(seqs: number[]): Promise<void>;
  /** Records a failed attempt so the indexer can back off. */
  failOutbox(seqs: number[]): Promise<void>;
  outboxLength(): Promise<number>;
}

/** Submission passwords, kept as opaque scrypt hashes (the store never sees a password). */
export interface CredentialStore {
  /**
   * Sets (or with null clears) the submission password hash of a mailbox, found by its primary
   * address; NotFoundError when there is none. A Cassandra adapter keeps it in the mailboxes
   * table beside the quota.
   */
  setPassword(address: string, hash: string | null): Promise<void>;
  /** The password hash of the mailbox the address (primary or alias) resolves to, or null. */
  getPasswordHash(address: string): Promise<string | null>;
}

/**
 * Bayes token statistics in scopes: `'global'` and one per mailbox (removed with it).
 * `bayesLearn` counts a message at most once per scope and label, so a message moved into Junk
 * twice is learned once, and moving it out again unlearns spam before learning ham. (A Cassandra
 * adapter keeps the counts in counter tables and the per-message labels behind a lightweight
 * transaction, so a replayed learn does not count twice.)
 */
export interface BayesTokenStore {
  /** Spam and ham counts of the given tokens in one scope; tokens never learned are absent. */
  bayesLookup(scope: string, tokens: string[]): Promise<Map<string, BayesCounts>>;
  /** How many messages the scope holds learned as spam and as ham. */
  bayesTotals(scope: string): Promise<BayesCounts>;
  /**
   * Gives a message a label in each scope, in one durable step per call: a message learned with
   * another label is unlearned first (its tokens' counts of that label drop by one, never below
   * zero); the same label again changes nothing; a null label forgets the message.
   */
  bayesLearn(learning: BayesLearning): Promise<BayesLearnResult[]>;
  /** The label a message (by SHA-256) holds in a scope, or null. */
  bayesLabel(scope: string, sha256: string): Promise<BayesLabel | null>;
}

/**
 * Folder listing and entry deletion (operator tools: abuse and erasure requests).
 *
 * - Folder names are canonical: INBOX in any case is INBOX (see input-checks.ts).
 * - `listFolders` lists the folders holding at least one entry, by name, with counts and sizes.
 * - `deleteEntry` removes the entry and its ledger, records an outbox delete (so the search index
 *   follows) and, when no other entry refers to the raw bytes, deletes them too; the mailbox's
 *   usage drops by the entry's size. NotFoundError for an unknown id. A later delivery of the same
 *   bytes makes a new entry.
 */
export interface EntryRemoval {
  listFolders(mailboxId: string): Promise<FolderSummary[]>;
  deleteEntry(entryId: string): Promise<EntryDeletion>;
}
