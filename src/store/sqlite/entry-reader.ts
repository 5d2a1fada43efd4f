import type Database from 'better-sqlite3';
import type { LedgerLine, ListEntriesOptions, MailboxEntry } from '../types.js';
import {
  ENTRY_COLUMNS,
  toLedgerLine,
  toMailboxEntry,
  type EntryRow,
  type LedgerRow,
} from './row-mappers.js';

/** Raw bytes as the row holds them: in the row, or (`inFile`) in the BlobFiles file of `sha256`. */
export interface RawRow {
  sha256: string;
  raw: Buffer;
  inFile: boolean;
}

const FROM_ENTRIES = 'FROM mailbox_entries e JOIN mailboxes m ON m.id = e.mailbox_id';

/** Read side of the store: listings, single entries, raw bytes, ledgers and usage. */
export class EntryReader {
  private readonly one: Database.Statement;
  private readonly raw: Database.Statement;
  private readonly full: Database.Statement;
  private readonly ledger: Database.Statement;
  private readonly usage: Database.Statement;
  // One statement per filter shape, so each uses its index instead of an OR over NULLs.
  private readonly listings = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.one = db.prepare(`SELECT ${ENTRY_COLUMNS} ${FROM_ENTRIES} WHERE e.id = ?`);
    this.raw = db.prepare('SELECT sha256, raw, in_file FROM messages WHERE sha256 = ?');
    this.full = db.prepare(
      `SELECT e.prepend_headers, b.sha256, b.raw, b.in_file FROM mailbox_entries e
       JOIN messages b ON b.sha256 = e.sha256 WHERE e.id = ?`,
    );
    this.ledger = db.prepare(
      `SELECT plugin, stage, verdict, score, reason, duration_ms, details
       FROM ledger WHERE entry_id = ? ORDER BY seq`,
    );
    this.usage = db.prepare('SELECT COALESCE(SUM(size), 0) AS bytes FROM mailbox_entries WHERE mailbox_id = ?');
  }

  /** Newest first; `before` is an exclusive cursor on the entry id. */
  list(options: ListEntriesOptions): MailboxEntry[] {
    const hasFolder = options.folder !== undefined;
    const hasBefore = options.before !== undefined;
    const params: unknown[] = [options.mailboxId];
    if (hasFolder) params.push(options.folder);
    if (hasBefore) params.push(options.before);
    params.push(Math.max(0, Math.floor(options.limit)));
    const rows = this.listing(hasFolder, hasBefore).all(...params) as EntryRow[];
    return rows.map(toMailboxEntry);
  }

  get(entryId: string): MailboxEntry | null {
    const row = this.one.get(entryId) as EntryRow | undefined;
    return row ? toMailboxEntry(row) : null;
  }

  /** The raw bytes' row; the store reads the file when `inFile`. */
  getRaw(sha256: string): RawRow | null {
    const row = this.raw.get(String(sha256).toLowerCase()) as StoredRawRow | undefined;
    return row ? toRawRow(row) : null;
  }

  /** Hermod's prepended headers and the raw bytes' row (the store puts them together). */
  getFull(entryId: string): { prependHeaders: string; raw: RawRow } | null {
    const row = this.full.get(entryId) as (StoredRawRow & { prepend_headers: string }) | undefined;
    return row ? { prependHeaders: row.prepend_headers, raw: toRawRow(row) } : null;
  }

  getLedger(entryId: string): LedgerLine[] {
    return (this.ledger.all(entryId) as LedgerRow[]).map(toLedgerLine);
  }

  /** Sum of the entry sizes (prepended headers + raw) in the mailbox. */
  usageOf(mailboxId: string): number {
    return (this.usage.get(mailboxId) as { bytes: number }).bytes;
  }

  private listing(hasFolder: boolean, hasBefore: boolean): Database.Statement {
    const key = `${hasFolder}:${hasBefore}`;
    let statement = this.listings.get(key);
    if (!statement) {
      const where = ['e.mailbox_id = ?'];
      if (hasFolder) where.push('e.folder = ?');
      if (hasBefore) where.push('e.id < ?');
      statement = this.db.prepare(
        `SELECT ${ENTRY_COLUMNS} ${FROM_ENTRIES} WHERE ${where.join(' AND ')} ORDER BY e.id DESC LIMIT ?`,
      );
      this.listings.set(key, statement);
    }
    return statement;
  }
}

interface StoredRawRow {
  sha256: string;
  raw: Buffer;
  in_file: number;
}

function toRawRow(row: StoredRawRow): RawRow {
  return { sha256: row.sha256, raw: row.raw, inFile: row.in_file === 1 };
}
