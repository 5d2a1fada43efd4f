import type Database from 'better-sqlite3';
import { NotFoundError } from '../../errors.js';
import type { EntryDeletion, FolderSummary } from '../types.js';
import type { BlobFiles } from './blob-files.js';
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
  private readonly unlinkTx: (sha256s: string[]) => void;
  private readonly sweepTx: (minAgeMs: number) => number;

  constructor(
    db: Database.Database,
    private readonly outbox: OutboxQueue,
    private readonly reader: EntryReader,
    private readonly blobs: BlobFiles | null,
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
    // Files are unlinked under the write lock too, once no row refers to them: a writer checks
    // for its file under the same lock before committing a reference (see BlobFiles).
    const fileReferenced = db.prepare('SELECT 1 FROM messages WHERE sha256 = ? AND in_file = 1');
    const referenced = (sha256: string): boolean => fileReferenced.get(sha256) !== undefined;
    const unlink = db.transaction((sha256s: string[]) => {
      for (const sha256 of sha256s) if (!referenced(sha256)) this.blobs?.remove(sha256);
    });
    this.unlinkTx = (sha256s) => unlink.immediate(sha256s);
    const sweep = db.transaction((minAgeMs: number) => this.blobs?.sweep(referenced, minAgeMs) ?? 0);
    this.sweepTx = (minAgeMs) => sweep.immediate(minAgeMs);
  }

  /**
   * Unlinks the files of dropped blobs, after the commit that dropped their rows. A crash before
   * this leaves files nothing refers to: `sweepFiles` at the next open removes them.
   */
  removeFiles(sha256s: string[]): void {
    if (this.blobs && sha256s.length > 0) this.unlinkTx(sha256s);
  }

  /** Removes files no row refers to (and interrupted writes) older than `minAgeMs`; returns how many. */
  sweepFiles(minAgeMs: number): number {
    return this.blobs ? this.sweepTx(minAgeMs) : 0;
  }

  listFolders(mailboxId: string): FolderSummary[] {
    return (this.sql.folders.all(mailboxId) as FolderSummary[]).map((row) => ({
      folder: row.folder,
      messages: Number(row.messages),
      bytes: Number(row.bytes),
    }));
  }

  deleteEntry(entryId: string): EntryDeletion {
    const deletion = this.deleteTx(entryId);
    try {
      if (deletion.blobRemoved) this.removeFiles([deletion.entry.sha256]);
    } catch {
      // The deletion is committed; a file left behind (lock busy, I/O) is removed by the sweep
      // at the next open, so failing the deletion now would only mislead the caller.
    }
    return deletion;
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
