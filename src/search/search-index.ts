/** A document in the search index: one mailbox entry. */
export interface SearchDocument {
  entryId: string;
  mailboxId: string;
  folder: string;
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  body: string;
  attachmentNames: string[];
  hasAttachment: boolean;
  tags: string[];
  threadId: string;
  date: Date;
  size: number;
  /** External version: an update with a lower version never replaces a higher one. */
  version: number;
}

/** Parsed query: free-text terms plus field filters (see query-parser.ts for the syntax). */
export interface SearchQuery {
  text: string[];
  from: string[];
  to: string[];
  subject: string[];
  tags: string[];
  folder?: string;
  hasAttachment?: boolean;
  before?: Date;
  after?: Date;
}

export interface SearchHit {
  entryId: string;
  date: Date;
}

/**
 * What the index holds for one entry, for drift checks (`hermod index verify`): its version and
 * the fields a store change can alter (folder and tags, lower-cased as indexed).
 */
export interface IndexedEntry {
  version: number;
  folder: string;
  tags: string[];
}

/**
 * The search index contract every adapter (SQLite FTS5, Elasticsearch) honours.
 * Results are always ordered newest first, then by entry id descending.
 */
export interface SearchIndex {
  init(): Promise<void>;
  close(): Promise<void>;
  /** Bulk upsert; documents older (lower version) than what is indexed are ignored. */
  upsert(docs: SearchDocument[]): Promise<void>;
  remove(entries: { entryId: string; mailboxId: string; version: number }[]): Promise<void>;
  search(mailboxId: string, query: SearchQuery, limit: number): Promise<SearchHit[]>;
  /** entryId → indexed version, for drift checks. */
  versions(mailboxId: string): Promise<Map<string, number>>;
  /** entryId → what is indexed for it (removed entries are absent), for drift checks. */
  inventory(mailboxId: string): Promise<Map<string, IndexedEntry>>;
  /** Every mailbox id the index holds documents for, so a check can find removed mailboxes. */
  mailboxIds(): Promise<string[]>;
}
