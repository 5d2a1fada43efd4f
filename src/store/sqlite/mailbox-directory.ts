import type Database from 'better-sqlite3';
import { ulid } from 'ulid';
import { InputError, NotFoundError } from '../../errors.js';
import type { Domain, Mailbox, NewMailbox } from '../types.js';
import { normalizeAddress, normalizeDomain, stripSubAddress, tryNormalizeAddress } from '../../mail/address-syntax.js';
import type { BayesTokens } from './bayes-tokens.js';
import type { OutboxQueue } from './outbox-queue.js';
import { toDomain, toMailbox, type DomainRow, type MailboxRow } from './row-mappers.js';

const MAILBOX_COLUMNS = 'id, address, domain, quota_bytes, created_at';

/**
 * Domains, mailboxes and aliases: the admin side of the store, and address resolution for RCPT.
 * Everything is stored lower-cased, so lookups compare plain strings.
 */
export class MailboxDirectory {
  private readonly sql: Record<string, Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    private readonly outbox: OutboxQueue,
    private readonly bayes?: BayesTokens,
  ) {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      domain: p('SELECT name, created_at FROM domains WHERE name = ?'),
      domains: p('SELECT name, created_at FROM domains ORDER BY name'),
      addDomain: p('INSERT INTO domains (name, created_at) VALUES (?, ?)'),
      dropDomain: p('DELETE FROM domains WHERE name = ?'),
      domainMailboxes: p('SELECT address FROM mailboxes WHERE domain = ? ORDER BY address LIMIT 5'),
      domainAliases: p(
        `SELECT alias FROM mailbox_aliases WHERE substr(alias, instr(alias, '@') + 1) = ? ORDER BY alias LIMIT 5`,
      ),
      byAddress: p(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes WHERE address = ?`),
      byAlias: p(
        `SELECT m.id, m.address, m.domain, m.quota_bytes, m.created_at
         FROM mailbox_aliases a JOIN mailboxes m ON m.id = a.mailbox_id WHERE a.alias = ?`,
      ),
      all: p(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes ORDER BY address`),
      inDomain: p(`SELECT ${MAILBOX_COLUMNS} FROM mailboxes WHERE domain = ? ORDER BY address`),
      aliasesOf: p('SELECT alias FROM mailbox_aliases WHERE mailbox_id = ?'),
      allAliases: p('SELECT alias, mailbox_id FROM mailbox_aliases'),
      addMailbox: p(
        `INSERT INTO mailboxes (id, address, domain, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?)`,
      ),
      addAlias: p('INSERT INTO mailbox_aliases (alias, mailbox_id) VALUES (?, ?)'),
      entriesOf: p('SELECT id, sha256 FROM mailbox_entries WHERE mailbox_id = ?'),
      dropMailbox: p('DELETE FROM mailboxes WHERE id = ?'),
      // Blobs are shared between mailboxes; only those no entry refers to any more can go.
      dropOrphanBlob: p(
        'DELETE FROM messages WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE sha256 = ?)',
      ),
    };
  }

  addDomain(name: string): Domain {
    const domain = normalizeDomain(name);
    return this.db.transaction(() => {
      if (this.sql.domain.get(domain)) throw new InputError(`domain: ${domain} already exists`);
      const createdAt = Date.now();
      this.sql.addDomain.run(domain, createdAt);
      return toDomain({ name: domain, created_at: createdAt });
    }).immediate();
  }

  listDomains(): Domain[] {
    return (this.sql.domains.all() as DomainRow[]).map(toDomain);
  }

  /** Refuses while mailboxes or aliases of the domain remain: they would become unreachable. */
  removeDomain(name: string): void {
    const domain = normalizeDomain(name);
    this.db.transaction(() => {
      if (!this.sql.domain.get(domain)) throw new NotFoundError(`domain ${domain} does not exist`);
      const mailboxes = (this.sql.domainMailboxes.all(domain) as { address: string }[]).map((r) => r.address);
      if (mailboxes.length > 0) {
        throw new InputError(`domain: ${domain} still has mailboxes (${mailboxes.join(', ')}); remove them first`);
      }
      const aliases = (this.sql.domainAliases.all(domain) as { alias: string }[]).map((r) => r.alias);
      if (aliases.length > 0) {
        throw new InputError(`domain: ${domain} is still used by aliases (${aliases.join(', ')}); remove them first`);
      }
      this.sql.dropDomain.run(domain);
    }).immediate();
  }

  isLocalDomain(name: string): boolean {
    const domain = String(name).trim().toLowerCase().replace(/\.$/, '');
    return this.sql.domain.get(domain) !== undefined;
  }

  /** Checks syntax, domains and uniqueness, then inserts the mailbox with its aliases. */
  addMailbox(input: NewMailbox): Mailbox {
    const { address, domain } = normalizeAddress(input.address);
    const quota = input.quotaBytes;
    if (!Number.isSafeInteger(quota) || quota < 0) {
      throw new InputError(`quotaBytes: ${String(quota)} is not a whole number of bytes >= 0`);
    }
    const aliases = (input.aliases ?? []).map((alias) => normalizeAddress(alias, 'aliases'));
    return this.db.transaction(() => {
      this.requireDomain(domain, 'address', address);
      const seen = new Set([address]);
      for (const alias of aliases) {
        this.requireDomain(alias.domain, 'aliases', alias.address);
        if (seen.has(alias.address)) throw new InputError(`aliases: ${alias.address} is given twice`);
        seen.add(alias.address);
      }
      for (const taken of seen) this.requireFree(taken, taken === address ? 'address' : 'aliases');
      const id = input.imported?.id ?? ulid();
      const createdAt = input.imported?.createdAt.getTime() ?? Date.now();
      this.sql.addMailbox.run(id, address, domain, quota, createdAt);
      for (const alias of aliases) this.sql.addAlias.run(alias.address, id);
      return toMailbox(
        { id, address, domain, quota_bytes: quota, created_at: createdAt },
        aliases.map((a) => a.address),
      );
    }).immediate();
  }

  /** All mailboxes, or those of one domain, ordered by address. */
  listMailboxes(domain?: string): Mailbox[] {
    const rows = (
      domain === undefined ? this.sql.all.all() : this.sql.inDomain.all(String(domain).trim().toLowerCase())
    ) as MailboxRow[];
    const aliases = new Map<string, string[]>();
    for (const row of this.sql.allAliases.all() as { alias: string; mailbox_id: string }[]) {
      const list = aliases.get(row.mailbox_id) ?? [];
      list.push(row.alias);
      aliases.set(row.mailbox_id, list);
    }
    return rows.map((row) => toMailbox(row, aliases.get(row.id) ?? []));
  }

  /**
   * Removes a mailbox (by its primary address) with its aliases, entries, ledgers and Bayes
   * statistics, queues an index delete per entry, and drops blobs no other mailbox holds. One
   * transaction. Returns the SHA-256 of the blobs dropped (their files go after the commit).
   */
  removeMailbox(address: string): string[] {
    const parsed = tryNormalizeAddress(address);
    return this.db.transaction(() => {
      const row = parsed ? (this.sql.byAddress.get(parsed.address) as MailboxRow | undefined) : undefined;
      if (!row) throw new NotFoundError(`mailbox ${address} does not exist`);
      const entries = this.sql.entriesOf.all(row.id) as { id: string; sha256: string }[];
      const now = Date.now();
      for (const entry of entries) this.outbox.enqueue(entry.id, row.id, 'delete', now);
      // ON DELETE CASCADE takes the aliases, entries and ledger lines with it.
      this.sql.dropMailbox.run(row.id);
      this.bayes?.dropScope(row.id);
      return [...new Set(entries.map((e) => e.sha256))].filter((sha256) => this.sql.dropOrphanBlob.run(sha256, sha256).changes > 0);
    }).immediate();
  }

  /** Exact address, then alias; failing both, the same without a `+tag` sub-address. */
  resolveAddress(address: string): Mailbox | null {
    const parsed = tryNormalizeAddress(address);
    if (!parsed) return null;
    const exact = this.lookup(parsed.address);
    if (exact) return exact;
    const base = stripSubAddress(parsed);
    return base ? this.lookup(base) : null;
  }

  private lookup(address: string): Mailbox | null {
    const row = (this.sql.byAddress.get(address) ?? this.sql.byAlias.get(address)) as MailboxRow | undefined;
    if (!row) return null;
    const aliases = (this.sql.aliasesOf.all(row.id) as { alias: string }[]).map((r) => r.alias);
    return toMailbox(row, aliases);
  }

  private requireDomain(domain: string, field: string, address: string): void {
    if (!this.sql.domain.get(domain)) {
      throw new InputError(`${field}: ${address} is not in a local domain; add domain ${domain} first`);
    }
  }

  private requireFree(address: string, field: string): void {
    if (this.sql.byAddress.get(address) || this.sql.byAlias.get(address)) {
      throw new InputError(`${field}: ${address} is already in use by another mailbox or alias`);
    }
  }
}
