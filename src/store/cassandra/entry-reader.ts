import type cassandra from 'cassandra-driver';
import type { LedgerLine, ListEntriesOptions, MailboxEntry } from '../types.js';
import type { BlobStore } from './blob-store.js';
import { inGroups, mapLimit, type CassandraSession } from './cassandra-session.js';
import { ENTRY_COLUMNS, LEDGER_COLUMNS, toLedgerLine, toMailboxEntry, toNumber } from './row-mappers.js';

/** An entry as mailbox removal needs it. */
export interface EntryRef {
  entryId: string;
  sha256: string;
  folder: string;
}

/** Read side of the Cassandra store: listings, single entries, full messages, ledgers, usage. */
export class EntryReader {
  private readonly sql: Record<string, string>;

  constructor(
    private readonly session: CassandraSession,
    private readonly blobs: BlobStore,
  ) {
    const t = (name: string) => session.table(name);
    const listing = `SELECT ${ENTRY_COLUMNS} FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ?`;
    this.sql = {
      page: `${listing} LIMIT ?`,
      pageBefore: `${listing} AND entry_id < ? LIMIT ?`,
      folders: `SELECT folder FROM ${t('mailbox_folders')} WHERE mailbox_id = ?`,
      refs: `SELECT entry_id, sha256 FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ?`,
      one: `SELECT ${ENTRY_COLUMNS} FROM ${t('entries_by_id')} WHERE entry_id = ?`,
      many: `SELECT ${ENTRY_COLUMNS} FROM ${t('entries_by_id')} WHERE entry_id IN ?`,
      full: `SELECT sha256, prepend_headers FROM ${t('entries_by_id')} WHERE entry_id = ?`,
      ledger: `SELECT ${LEDGER_COLUMNS} FROM ${t('ledger')} WHERE entry_id = ?`,
      lastSeq: `SELECT seq FROM ${t('ledger')} WHERE entry_id = ? ORDER BY seq DESC LIMIT 1`,
      usage: `SELECT bytes FROM ${t('mailbox_usage')} WHERE mailbox_id = ?`,
    };
  }

  /**
   * Newest first; `before` is an exclusive cursor on the entry id. Without a folder, each folder
   * partition gives its newest `limit` and the pages are merged.
   */
  async list(options: ListEntriesOptions): Promise<MailboxEntry[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0) return [];
    const folders = options.folder !== undefined ? [options.folder] : await this.folders(options.mailboxId);
    const pages = await mapLimit(folders, 8, (folder) => this.folderPage(options.mailboxId, folder, limit, options.before));
    return pages
      .flat()
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit);
  }

  async get(entryId: string): Promise<MailboxEntry | null> {
    const row = (await this.session.execute(this.sql.one, [String(entryId)], { idempotent: true })).first();
    return row ? toMailboxEntry(row) : null;
  }

  /**
   * Several entries by id in a few requests (up to KEYS_PER_READ ids each) instead of one each:
   * for a reader of many entries at once, such as the indexer's batch. Ids not found are absent.
   */
  async getMany(entryIds: readonly string[]): Promise<Map<string, MailboxEntry>> {
    const found = new Map<string, MailboxEntry>();
    await mapLimit(inGroups([...new Set(entryIds.map(String))]), 4, async (ids) => {
      const result = await this.session.execute(this.sql.many, [ids], { idempotent: true, fetchSize: ids.length });
      for (const row of result.rows) found.set(row.get('entry_id') as string, toMailboxEntry(row));
    });
    return found;
  }

  /** Hermod's prepended headers followed by the raw bytes, untouched. */
  async getFull(entryId: string): Promise<Buffer | null> {
    const row = (await this.session.execute(this.sql.full, [String(entryId)], { idempotent: true })).first();
    if (!row) return null;
    const raw = await this.blobs.get(row.get('sha256') as string);
    if (!raw) return null;
    return Buffer.concat([Buffer.from((row.get('prepend_headers') as string | null) ?? '', 'utf8'), raw]);
  }

  async getLedger(entryId: string): Promise<LedgerLine[]> {
    return (await this.session.rows(this.sql.ledger, [String(entryId)], { idempotent: true })).map(toLedgerLine);
  }

  /** The seq a new ledger line of the entry gets. */
  async nextLedgerSeq(entryId: string): Promise<number> {
    const row = (await this.session.execute(this.sql.lastSeq, [entryId], { idempotent: true })).first();
    return row ? (row.get('seq') as number) + 1 : 0;
  }

  /** Bytes of the mailbox's entries (prepended headers + raw), from its counter. */
  async usageOf(mailboxId: string): Promise<number> {
    const row = (await this.session.execute(this.sql.usage, [mailboxId], { idempotent: true })).first();
    return Math.max(0, toNumber(row?.get('bytes')));
  }

  async folders(mailboxId: string): Promise<string[]> {
    return (await this.session.rows(this.sql.folders, [mailboxId], { idempotent: true })).map(
      (row) => row.get('folder') as string,
    );
  }

  /** Every entry of a mailbox (for its removal), from its folder partitions. */
  async refs(mailboxId: string): Promise<EntryRef[]> {
    const refs: EntryRef[] = [];
    for (const folder of await this.folders(mailboxId)) {
      for (const row of await this.session.rows(this.sql.refs, [mailboxId, folder], { idempotent: true })) {
        refs.push({ entryId: row.get('entry_id') as string, sha256: row.get('sha256') as string, folder });
      }
    }
    return refs;
  }

  private async folderPage(mailboxId: string, folder: string, limit: number, before?: string): Promise<MailboxEntry[]> {
    const result: cassandra.types.ResultSet =
      before === undefined
        ? await this.session.execute(this.sql.page, [mailboxId, folder, limit], { idempotent: true })
        : await this.session.execute(this.sql.pageBefore, [mailboxId, folder, before, limit], { idempotent: true });
    return result.rows.map(toMailboxEntry);
  }
}
