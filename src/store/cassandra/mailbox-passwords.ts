import { NotFoundError } from '../../errors.js';
import { tryNormalizeAddress } from '../../mail/address-syntax.js';
import type { CassandraSession } from './cassandra-session.js';
import type { MailboxDirectory } from './mailbox-directory.js';

/**
 * Submission password hashes, in the `password_hash` column of `mailboxes`. Apart from
 * MailboxDirectory so the admin reads there never carry the hash.
 */
export class MailboxPasswords {
  private readonly sql: Record<'set' | 'get' | 'owner', string>;

  constructor(
    private readonly session: CassandraSession,
    private readonly directory: MailboxDirectory,
  ) {
    const t = (name: string) => session.table(name);
    this.sql = {
      // IF EXISTS: a mailbox removed meanwhile must not come back as a row with only a hash.
      set: `UPDATE ${t('mailboxes')} SET password_hash = ? WHERE id = ? IF EXISTS`,
      get: `SELECT password_hash FROM ${t('mailboxes')} WHERE id = ?`,
      owner: `SELECT mailbox_id FROM ${t('addresses_by_name')} WHERE address = ?`,
    };
  }

  /** Sets or clears the hash of the mailbox whose primary address this is. */
  async setPassword(address: string, hash: string | null): Promise<void> {
    const mailbox = await this.directory.primaryMailbox(address);
    const { applied } = await this.session.lwt(this.sql.set, [hash, mailbox.id]);
    if (!applied) throw new NotFoundError(`mailbox ${address} does not exist`);
  }

  /** The hash of the mailbox the address or alias belongs to; null when none is set or no such mailbox. */
  async getPasswordHash(address: string): Promise<string | null> {
    const parsed = tryNormalizeAddress(address);
    if (!parsed) return null;
    const owner = (await this.session.execute(this.sql.owner, [parsed.address], { idempotent: true })).first();
    if (!owner) return null;
    const row = (await this.session.execute(this.sql.get, [owner.get('mailbox_id')], { idempotent: true })).first();
    return (row?.get('password_hash') as string | null | undefined) ?? null;
  }
}
