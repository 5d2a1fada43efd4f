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
