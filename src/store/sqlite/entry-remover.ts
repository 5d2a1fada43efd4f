import type Database from 'better-sqlite3';
import { NotFoundError } from '../../errors.js';
import type { EntryDeletion, FolderSummary } from '../types.js';
import type { EntryReader } from './entry-reader.js';
import type { OutboxQueue } from './outbox-queue.js';

/**
 * Folder listing and entry deletion. A deletion is one transaction: the outbox delete for the
 * indexer, the entry (its ledger goes by ON DELETE CASCADE) and the raw bytes when no other entry
 * holds them, so the store never keeps bytes nothing refers to nor an index item for nothing.
 */
export class EntryRemover {
  private readonly sql: Record<string, Database.Statement>;
  private readonly deleteTx: (entryId: string) => EntryDeletion;

  constructor(
    db: Database.Database,
    private readonly outbox: OutboxQueue,
    private readonly reader: EntryReader,
  ) {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      folders: p(`SELECT folder, COUNT(*) AS messages, COALESCE(SUM(size), 0) AS bytes
        FROM mailbox_entries WHERE mailbox_id = ? GROUP BY folder ORDER BY folder`),
      dropEntry: p('DELETE FROM mailbox_entries WHERE id = ?'),
      dropOrphanBlob: p(
        'DELETE FROM messages WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE sha256 = ?)',
      ),
    };
    const remove = db.transaction((entryId: string) => this.deleteOnce(entryId));
    // IMMEDIATE: the "does another entry hold these bytes" check and the delete see one state.
    this.deleteTx = (entryId) => remove.immediate(entryId);
  }

  listFolders(mailboxId: string): FolderSummary[] {
    return (this.sql.folders.all(mailboxId) as FolderSummary[]).map((row) => ({
      folder: row.folder,
      messages: Number(row.messages),
      bytes: Number(row.bytes),
    }));
  }

  deleteEntry(entryId: string): EntryDeletion {
    return this.deleteTx(entryId);
  }

  private deleteOnce(entryId: string): EntryDeletion {
    const entry = this.reader.get(entryId);
    if (!entry) throw new NotFoundError(`unknown message id "${entryId}"`);
    this.outbox.enqueue(entry.id, entry.mailboxId, 'delete', Date.now());
    this.sql.dropEntry.run(entry.id);
    const blobRemoved = this.sql.dropOrphanBlob.run(entry.sha256, entry.sha256).changes > 0;
    return { entry, blobRemoved };
  }
}
