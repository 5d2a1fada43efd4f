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
 * Cassandra cannot do this in one transaction, so the order makes it safe to repeat: index
 * deletes first, then the entries, then the blobs nobody holds, and the mailbox row and its
 * addresses last, so a removal that failed half-way is finished by running it again. (A message
 * delivered to the mailbox while it is being removed can be left behind unreachable, and a blob
 * being delivered to another mailbox at that very moment can lose its bytes; both need an
 * operator removing a mailbox that is still receiving mail.)
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
    };
  }

  async remove(address: string): Promise<void> {
    const { session, directory, reader, outbox, blobs, bayes } = this.parts;
    const once = { idempotent: true };
    const mailbox = await directory.primaryMailbox(address);
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
    await directory.dropMailbox(mailbox);
  }
}
