import { NotFoundError } from '../../errors.js';
import type { ClassificationUpdate, LedgerLine, MailboxEntry } from '../types.js';
import type { BatchStatement, CassandraSession } from './cassandra-session.js';
import type { EntryReader } from './entry-reader.js';
import { checkFolder, checkImportance, checkTags } from '../input-checks.js';
import { nextOutboxVersion, type OutboxQueue } from './outbox-queue.js';
import { ENTRY_COLUMNS, entryParamsOf, LEDGER_COLUMNS, ledgerParams } from './row-mappers.js';

/**
 * Changes to existing entries: moving between folders and re-classification. Each change is one
 * logged batch (the entry by id, the folder listings, the ledger note and the outbox upsert):
 * Cassandra applies all of it, or (after a coordinator failure, from its batch log) eventually
 * all of it, so the listing, the entry and the index never disagree for long.
 */
export class EntryUpdater {
  private readonly sql: Record<string, string>;

  constructor(
    private readonly session: CassandraSession,
    private readonly reader: EntryReader,
    private readonly outbox: OutboxQueue,
  ) {
    const t = (name: string) => session.table(name);
    this.sql = {
      setEntry: `UPDATE ${t('entries_by_id')} SET folder = ?, tags = ?, importance = ? WHERE entry_id = ?`,
      unlist: `DELETE FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ? AND entry_id = ?`,
      list: `INSERT INTO ${t('entries_by_folder')} (${ENTRY_COLUMNS})
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      folder: `INSERT INTO ${t('mailbox_folders')} (mailbox_id, folder) VALUES (?, ?)`,
      ledger: `INSERT INTO ${t('ledger')} (entry_id, seq, ${LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    };
  }

  async move(entryId: string, folder: string, note?: LedgerLine): Promise<MailboxEntry> {
    const target = checkFolder(folder);
    const entry = await this.existing(entryId);
    if (entry.folder === target) return entry;
    const moved = { ...entry, folder: target };
    await this.apply(entry, moved, note);
    return moved;
  }

  async updateClassification(entryId: string, update: ClassificationUpdate): Promise<MailboxEntry> {
    const tags = checkTags(update.tags);
    const importance = checkImportance(update.importance);
    const folder = update.folder === undefined ? undefined : checkFolder(update.folder);
    const entry = await this.existing(entryId);
    const changed = { ...entry, tags, importance, folder: folder ?? entry.folder };
    await this.apply(entry, changed, update.note);
    return changed;
  }

  /** Writes `after` over `before` in one logged batch, with the note and an outbox upsert. */
  private async apply(before: MailboxEntry, after: MailboxEntry, note: LedgerLine | undefined): Promise<void> {
    const statements: BatchStatement[] = [
      { query: this.sql.setEntry, params: [after.folder, after.tags, after.importance, after.id] },
      { query: this.sql.list, params: entryParamsOf(after) },
    ];
    if (before.folder !== after.folder) {
      statements.push(
        { query: this.sql.unlist, params: [before.mailboxId, before.folder, before.id] },
        { query: this.sql.folder, params: [after.mailboxId, after.folder] },
      );
    }
    if (note) {
      const seq = await this.reader.nextLedgerSeq(after.id);
      statements.push({ query: this.sql.ledger, params: ledgerParams(after.id, seq, note) });
    }
    statements.push(
      ...this.outbox.statements({ entryId: after.id, mailboxId: after.mailboxId, op: 'upsert', version: nextOutboxVersion() }),
    );
    await this.session.batch(statements, 'logged');
  }

  private async existing(entryId: string): Promise<MailboxEntry> {
    const entry = await this.reader.get(entryId);
    if (!entry) throw new NotFoundError(`unknown message id "${entryId}"`);
    return entry;
  }
}
