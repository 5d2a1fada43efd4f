import type Database from 'better-sqlite3';
import { NotFoundError } from '../../errors.js';
import type { ClassificationUpdate, LedgerLine, MailboxEntry } from '../types.js';
import type { EntryReader } from './entry-reader.js';
import type { OutboxQueue } from './outbox-queue.js';
import { checkFolder, checkImportance, checkTags } from '../input-checks.js';

/**
 * Changes to existing entries: moving between folders and re-classification. Each change, its
 * ledger note and its outbox upsert commit together, so the search index follows.
 */
export class EntryUpdater {
  private readonly sql: Record<string, Database.Statement>;
  private readonly moveTx: (entryId: string, folder: string, note?: LedgerLine) => MailboxEntry;
  private readonly updateTx: (entryId: string, update: ClassificationUpdate) => MailboxEntry;

  constructor(
    db: Database.Database,
    private readonly outbox: OutboxQueue,
    private readonly reader: EntryReader,
  ) {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      setFolder: p('UPDATE mailbox_entries SET folder = ? WHERE id = ?'),
      setClassification: p('UPDATE mailbox_entries SET tags = ?, importance = ?, folder = ? WHERE id = ?'),
      nextSeq: p('SELECT COALESCE(MAX(seq) + 1, 0) AS seq FROM ledger WHERE entry_id = ?'),
      addLedger: p(`INSERT INTO ledger (
          entry_id, seq, plugin, stage, verdict, score, reason, duration_ms, details
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    };
    const move = db.transaction((entryId: string, folder: string, note?: LedgerLine) =>
      this.moveOnce(entryId, folder, note),
    );
    this.moveTx = (entryId, folder, note) => move.immediate(entryId, folder, note);
    const update = db.transaction((entryId: string, change: ClassificationUpdate) => this.updateOnce(entryId, change));
    this.updateTx = (entryId, change) => update.immediate(entryId, change);
  }

  move(entryId: string, folder: string, note?: LedgerLine): MailboxEntry {
    return this.moveTx(entryId, checkFolder(folder), note);
  }

  updateClassification(entryId: string, update: ClassificationUpdate): MailboxEntry {
    const checked: ClassificationUpdate = {
      ...update,
      tags: checkTags(update.tags),
      importance: checkImportance(update.importance),
      folder: update.folder === undefined ? undefined : checkFolder(update.folder),
    };
    return this.updateTx(entryId, checked);
  }

  private moveOnce(entryId: string, folder: string, note?: LedgerLine): MailboxEntry {
    const entry = this.existing(entryId);
    if (entry.folder === folder) return entry;
    this.sql.setFolder.run(folder, entryId);
    this.finish(entry, note);
    return this.existing(entryId);
  }

  private updateOnce(entryId: string, update: ClassificationUpdate): MailboxEntry {
    const entry = this.existing(entryId);
    this.sql.setClassification.run(JSON.stringify(update.tags), update.importance, update.folder ?? entry.folder, entryId);
    this.finish(entry, update.note);
    return this.existing(entryId);
  }

  /** The ledger note and the outbox upsert that go with every change. */
  private finish(entry: MailboxEntry, note: LedgerLine | undefined): void {
    const now = Date.now();
    if (note) {
      const { seq } = this.sql.nextSeq.get(entry.id) as { seq: number };
      const details = note.details === undefined ? null : JSON.stringify(note.details);
      this.sql.addLedger.run(
        entry.id, seq, note.plugin, note.stage, note.verdict, note.score, note.reason, note.durationMs, details,
      );
    }
    this.outbox.enqueue(entry.id, entry.mailboxId, 'upsert', now);
  }

  private existing(entryId: string): MailboxEntry {
    const entry = this.reader.get(entryId);
    if (!entry) throw new NotFoundError(`unknown message id "${entryId}"`);
    return entry;
  }
}
