import { NotFoundError, StoreError } from '../../errors.js';
import { tryNormalizeAddress } from '../../mail/address-syntax.js';
import type { Mailbox } from '../types.js';
import type { BayesTokens } from './bayes-tokens.js';
import type { BlobStore } from './blob-store.js';
import { mapLimit, type CassandraSession } from './cassandra-session.js';
import type { EntryReader } from './entry-reader.js';
import type { MailboxDirectory } from './mailbox-directory.js';
import { nextOutboxVersion, type OutboxQueue } from './outbox-queue.js';

/** The parts of the store a removal touches. */
export interface RemovalParts {
  session: CassandraSession;
  directory: MailboxDirectory;
  reader: EntryReader;
  outbox: OutboxQueue;
  blobs: BlobStore;
  bayes: BayesTokens;
}

/**
 * Removes a mailbox (by its primary address) with its entries, ledgers, usage and Bayes
 * statistics, queues an index delete per entry, and drops blobs no other mailbox holds.
 *
 * Cassandra cannot do this in one transaction, so it is resumable, with its state visible:
 * first a `mailbox_removals` row records the removal (address, mailbox id, start, phase), then
 * the addresses are released, so RCPT refuses new mail at once; then index deletes, entries,
 * the blobs nobody holds, and the mailbox rows; the record goes last. A removal that failed
 * half-way is finished by running it again with the same address (the record finds the
 * mailbox once its address is released), and the error names the phase it stopped in. (A
 * message past RCPT when the removal starts can be left behind unreachable, and a blob being
 * delivered to another mailbox at that very moment can lose its bytes.)
 */
export class MailboxRemoval {
  private readonly sql: Record<string, string>;

  constructor(private readonly parts: RemovalParts) {
    const t = (name: string) => parts.session.table(name);
    this.sql = {
      entry: `DELETE FROM ${t('entries_by_id')} WHERE entry_id = ?`,
      ledger: `DELETE FROM ${t('ledger')} WHERE entry_id = ?`,
      claim: `DELETE FROM ${t('entries_by_sha')} WHERE mailbox_id = ? AND sha256 = ?`,
      proposals: `DELETE FROM ${t('entry_claims')} WHERE mailbox_id = ? AND sha256 = ?`,
      holder: `DELETE FROM ${t('mailboxes_by_message')} WHERE sha256 = ? AND mailbox_id = ?`,
      holders: `SELECT mailbox_id FROM ${t('mailboxes_by_message')} WHERE sha256 = ? LIMIT 1`,
      folder: `DELETE FROM ${t('entries_by_folder')} WHERE mailbox_id = ? AND folder = ?`,
      folders: `DELETE FROM ${t('mailbox_folders')} WHERE mailbox_id = ?`,
      usage: `DELETE FROM ${t('mailbox_usage')} WHERE mailbox_id = ?`,
      record: `INSERT INTO ${t('mailbox_removals')} (address, mailbox_id, started_at, phase) VALUES (?, ?, ?, ?)`,
      pending: `SELECT mailbox_id, started_at, phase FROM ${t('mailbox_removals')} WHERE address = ?`,
      done: `DELETE FROM ${t('mailbox_removals')} WHERE address = ?`,
    };
  }

  /** Removes the mailbox, or finishes a removal of it that stopped half-way. */
  async remove(address: string): Promise<void> {
    const mailbox = await this.target(address);
    const started = new Date();
    let phase = 'addresses';
    const mark = async (next: string) => {
      phase = next;
      await this.parts.session.execute(this.sql.record, [mailbox.address, mailbox.id, started, next], { idempotent: true });
    };
    try {
      await mark('addresses');
      await this.parts.directory.releaseAddresses(mailbox);
      await mark('entries');
      await this.removeEntries(mailbox);
      await mark('mailbox');
      await this.parts.directory.dropMailbox(mailbox);
      await this.parts.session.execute(this.sql.done, [mailbox.address], { idempotent: true });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new StoreError(
        `removal of mailbox ${mailbox.address} stopped in phase "${phase}" (${detail}); its address no longer ` +
          'receives mail: run the removal again to finish it',
        { cause: err },
      );
    }
  }

  /** The mailbox by its primary address, or, once that was released, by its pending removal. */
  private async target(address: string): Promise<Mailbox> {
    try {
      return await this.parts.directory.primaryMailbox(address);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const normalized = tryNormalizeAddress(address)?.address;
      const row = normalized
        ? (await this.parts.session.execute(this.sql.pending, [normalized], { idempotent: true })).first()
        : null;
      const mailbox = row ? await this.parts.directory.mailboxById(row.get('mailbox_id') as string) : null;
      if (!mailbox) {
        // Stopped after the mailbox rows went: only the record is left.
        if (row) await this.parts.session.execute(this.sql.done, [normalized], { idempotent: true });
        throw err;
      }
      return mailbox;
    }
  }

  private async removeEntries(mailbox: Mailbox): Promise<void> {
    const { session, reader, outbox, blobs, bayes } = this.parts;
    const once = { idempotent: true };
    const refs = await reader.refs(mailbox.id);
    await outbox.enqueue(
      refs.map((ref) => ({ entryId: ref.entryId, mailboxId: mailbox.id, op: 'delete' as const, version: nextOutboxVersion() })),
    );
    await mapLimit(refs, 16, async (ref) => {
      await session.execute(this.sql.entry, [ref.entryId], once);
      await session.execute(this.sql.ledger, [ref.entryId], once);
      await session.execute(this.sql.claim, [mailbox.id, ref.sha256], once);
      await session.execute(this.sql.proposals, [mailbox.id, ref.sha256], once);
      await session.execute(this.sql.holder, [ref.sha256, mailbox.id], once);
    });
    for (const folder of new Set(refs.map((ref) => ref.folder))) {
      await session.execute(this.sql.folder, [mailbox.id, folder], once);
    }
    await session.execute(this.sql.folders, [mailbox.id], once);
    await session.execute(this.sql.usage, [mailbox.id], once);
    await bayes.dropScope(mailbox.id);
    for (const sha256 of new Set(refs.map((ref) => ref.sha256))) {
      const held = (await session.execute(this.sql.holders, [sha256], once)).rowLength > 0;
      if (!held) await blobs.remove(sha256);
    }
  }
}
