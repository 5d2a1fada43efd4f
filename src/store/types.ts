/** A domain Hermod accepts mail for. */
export interface Domain {
  name: string;
  createdAt: Date;
}

/** A mailbox: one primary address, any number of aliases, a quota. */
export interface Mailbox {
  id: string;
  address: string;
  aliases: string[];
  /** Quota in bytes; 0 means unlimited. */
  quotaBytes: number;
  createdAt: Date;
}

export interface NewMailbox {
  address: string;
  aliases?: string[];
  /** Quota in bytes; 0 means unlimited. */
  quotaBytes: number;
  /**
   * Data migration only (`hermod migrate-data`): the mailbox keeps the id and creation time it
   * has in the source store. Left out, the store makes a new id and takes the current time.
   */
  imported?: { id: string; createdAt: Date };
}

/**
 * Data migration only (`hermod migrate-data`): a delivery that copies an entry from another store
 * keeps the entry's id and arrival time, and records no outbox item (the migration rebuilds the
 * search index afterwards). Delivering it again is a duplicate, as for any delivery.
 */
export interface ImportedEntryIdentity {
  entryId: string;
  receivedAt: Date;
}

/** One line of a message's ledger: what a plugin (or the core) found and decided. */
export interface LedgerLine {
  plugin: string;
  stage: string;
  verdict: string;
  score: number;
  reason: string;
  durationMs: number;
  /** Tags or evidence the plugin attached, free form. */
  details?: Record<string, unknown>;
}

/** Attachment metadata kept with each entry (the bytes stay in the raw message). */
export interface AttachmentMeta {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** Summary fields for listing a folder without reading the raw message. */
export interface EntrySummary {
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  date: Date | null;
  messageId: string | null;
  attachments: AttachmentMeta[];
}

/** What the pipeline hands the store for one recipient. */
export interface Delivery {
  mailboxId: string;
  /** The bytes as received from the client, byte-exact; their SHA-256 addresses the blob. */
  raw: Buffer;
  sha256: string;
  /**
   * A file holding exactly `raw` (the DATA spool of a large message), readable until the delivery
   * resolves: a store that keeps large messages as files copies it rather than writing the Buffer.
   */
  rawFile?: string;
  /** Trace and verdict headers Hermod adds (Received, X-Spam-*), kept apart from the raw bytes. */
  prependHeaders: string;
  folder: string;
  flags: string[];
  tags: string[];
  importance: number;
  spamScore: number;
  threadId: string;
  summary: EntrySummary;
  envelope: { mailFrom: string; rcptTo: string; clientAddress: string; transactionId: string };
  ledger: LedgerLine[];
  /** Set only by `hermod migrate-data`; see ImportedEntryIdentity. */
  imported?: ImportedEntryIdentity;
}

export interface DeliveryResult {
  entryId: string;
  /** True when this mailbox already held these exact bytes: no second entry was made. */
  duplicate: boolean;
}

/** A mailbox entry: one copy of a message in one mailbox. */
export interface MailboxEntry {
  /** Time-ordered id (ULID): sorting by id sorts by arrival. */
  id: string;
  mailboxId: string;
  mailboxAddress: string;
  folder: string;
  sha256: string;
  size: number;
  flags: string[];
  tags: string[];
  importance: number;
  spamScore: number;
  threadId: string;
  summary: EntrySummary;
  receivedAt: Date;
  envelope: Delivery['envelope'];
}

export interface ListEntriesOptions {
  mailboxId: string;
  folder?: string;
  limit: number;
  /** Page cursor: return entries older than this entry id. */
  before?: string;
}

/** A pending change for the search indexer. */
export interface OutboxItem {
  seq: number;
  entryId: string;
  mailboxId: string;
  op: 'upsert' | 'delete';
  /** Monotonic version for the document; newer wins in the index. */
  version: number;
  attempts: number;
}

/** A Bayes training label: what a message was learned as. */
export type BayesLabel = 'spam' | 'ham';

/**
 * The scope of token statistics shared by all mailboxes. Any other scope is a mailbox id (a
 * ULID, so it never equals this word).
 */
export const BAYES_GLOBAL_SCOPE = 'global';

/** Spam and ham message counts: of one token (messages containing it), or of a whole scope. */
export interface BayesCounts {
  spam: number;
  ham: number;
}

/** One message to learn, relearn or forget in some scopes: see `MessageStore.bayesLearn`. */
export interface BayesLearning {
  /** `'global'` and/or mailbox ids; each is updated in the same durable step. */
  scopes: string[];
  /** The SHA-256 of the raw message: a message counts at most once per scope. */
  sha256: string;
  /** The message's tokens; duplicates count once. */
  tokens: string[];
  /** The label the message holds from now on; null forgets it. */
  label: BayesLabel | null;
}

/** What `bayesLearn` did in one scope. */
export interface BayesLearnResult {
  scope: string;
  /** The label the message held in the scope before, or null when it was not learned. */
  previous: BayesLabel | null;
  /** False when the message already held the label: nothing was counted. */
  changed: boolean;
}

/** A new classification for an entry: see `MessageStore.updateClassification`. */
export interface ClassificationUpdate {
  tags: string[];
  /** Clamped to −10..10. */
  importance: number;
  /** A new folder; omitted keeps the current one. */
  folder?: string;
  /** A ledger line saying why (appended to the entry's ledger). */
  note?: LedgerLine;
}

/** One folder of a mailbox, as `hermod mailbox folders` lists it. */
export interface FolderSummary {
  folder: string;
  /** Entries in the folder. */
  messages: number;
  /** Their sizes summed (prepended headers plus raw bytes, as `message list` shows them). */
  bytes: number;
}

/** What deleting one entry did. */
export interface EntryDeletion {
  /** The entry as it was. */
  entry: MailboxEntry;
  /** The raw bytes were deleted too: no other entry referred to them. */
  blobRemoved: boolean;
}
