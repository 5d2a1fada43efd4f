import type Database from 'better-sqlite3';
import { NotFoundError } from '../../errors.js';
import { tryNormalizeAddress } from '../../mail/address-syntax.js';

/**
 * Submission password hashes, kept in the nullable `mailboxes.password_hash` column of the
 * first migration. Apart from MailboxDirectory so the admin reads there never carry the hash.
 */
export class MailboxPasswords {
  private readonly set: Database.Statement;
  private readonly byAddress: Database.Statement;
  private readonly byAlias: Database.Statement;

  constructor(db: Database.Database) {
    this.set = db.prepare('UPDATE mailboxes SET password_hash = ? WHERE address = ?');
    this.byAddress = db.prepare('SELECT password_hash AS hash FROM mailboxes WHERE address = ?');
    this.byAlias = db.prepare(
      `SELECT m.password_hash AS hash FROM mailbox_aliases a JOIN mailboxes m ON m.id = a.mailbox_id WHERE a.alias = ?`,
    );
  }

  /** Sets or clears the hash of the mailbox whose primary address this is. */
  setPassword(address: string, hash: string | null): void {
    const parsed = tryNormalizeAddress(address);
    const changed = parsed ? this.set.run(hash, parsed.address).changes : 0;
    if (changed === 0) throw new NotFoundError(`mailbox ${address} does not exist`);
  }

  /** The hash of the mailbox the address or alias belongs to; null when none is set or no such mailbox. */
  getPasswordHash(address: string): string | null {
    const parsed = tryNormalizeAddress(address);
    if (!parsed) return null;
    const row = (this.byAddress.get(parsed.address) ?? this.byAlias.get(parsed.address)) as { hash: string | null } | undefined;
    return row?.hash ?? null;
  }
}
