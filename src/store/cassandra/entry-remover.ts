import { NotFoundError } from '../../errors.js';
import type { EntryDeletion, FolderSummary } from '../types.js';
import type { BlobStore } from './blob-store.js';
import type { CassandraSession } from './cassandra-session.js';
import type { EntryReader } from './entry-reader.js';
import { nextOutboxVersion, type OutboxQueue } from './outbox-queue.js';

/** The parts of the store a deletion touches. */
export interface EntryRemoverParts {
  session: CassandraSession;
  reader: EntryReader;
  outbox: OutboxQueue;
  blobs: BlobStore;
}

/**
 * Folder listing and entry deletion on Cassandra.
 *
 * A deletion cannot be one transaction here, so its order makes it safe to repeat after a
 * failure: the index delete first; then the listing row, the dedupe claim, the holder row and the
 * ledger; then the raw bytes if no mailbox holds them any more; the entry by id last (until then a
 * retry finds the entry and finishes the job), and only then the usage counter, which is not
 * idempotent and so drops once, after the entry is surely gone. (As with mailbox removal, the same
 * bytes being delivered to another mailbox at that very moment can lose their blob.)
 */
export class EntryRemover {
  private readonly sql: Record<string, string>;

  constructor(private readonly parts: EntryRemoverParts) {
    const t = (name: string) => parts.session.table(name);
    this.sql = {
      sizes: `SELECT size FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ?`,
      unlist: `DELETE FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ? AND entry_id = ?`,
      claim: `DELETE FROM ${t('entries_by_sha')} WHERE mailbox_id = ? AND sha256 = ?`,
      holder: `DELETE FROM ${t('mailboxes_by_message')} WHERE sha256 = ? AND mailbox_id = ?`,
      holders: `SELECT mailbox_id FROM ${t('mailboxes_by_message')} WHERE sha256 = ? LIMIT 1`,
      ledger: `DELETE FROM ${t('ledger')} WHERE entry_id = ?`,
      entry: `DELETE FROM ${t('entries_by_id')} WHERE entry_id = ?`,
      usage: `UPDATE ${t('mailbox_usage')} SET bytes = bytes - ? WHERE mailbox_id = ?`,
    };
  }

  /**
   * Reads each folder's listing partition (sizes only), page by page: the time grows with the
   * number of entries, the memory does not.
   */
  async listFolders(mailboxId: string): Promise<FolderSummary[]> {
    const { session, reader } = this.parts;
    const out: FolderSummary[] = [];
    for (const folder of await reader.folders(mailboxId)) {
      const summary = { folder, messages: 0, bytes: 0 };
      await session.forEachPage(this.sql.sizes, [mailboxId, folder], { idempotent: true, fetchSize: 5000 }, (rows) => {
        summary.messages += rows.length;
        for (const row of rows) summary.bytes += Number(row.get('size'));
      });
      if (summary.messages > 0) out.push(summary);
    }
    return out.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  }

  async deleteEntry(entryId: string): Promise<EntryDeletion> {
    const { session, reader, outbox, blobs } = this.parts;
    const once = { idempotent: true };
    const entry = await reader.get(entryId);
    if (!entry) throw new NotFoundError(`unknown message id "${entryId}"`);
    await outbox.enqueue([{ entryId: entry.id, mailboxId: entry.mailboxId, op: 'delete', version: nextOutboxVersion() }]);
    await session.execute(this.sql.unlist, [entry.mailboxId, entry.folder, entry.id], once);
    await session.execute(this.sql.claim, [entry.mailboxId, entry.sha256], once);
    await session.execute(this.sql.holder, [entry.sha256, entry.mailboxId], once);
    await session.execute(this.sql.ledger, [entry.id], once);
    const held = (await session.execute(this.sql.holders, [entry.sha256], once)).rowLength > 0;
    if (!held) await blobs.remove(entry.sha256);
    await session.execute(this.sql.entry, [entry.id], once);
    await session.execute(this.sql.usage, [entry.size, entry.mailboxId], { idempotent: false });
    return { entry, blobRemoved: !held };
  }
}
