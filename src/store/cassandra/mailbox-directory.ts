import { ulid } from 'ulid';
import { InputError, NotFoundError } from '../../errors.js';
import { normalizeAddress, normalizeDomain, stripSubAddress, tryNormalizeAddress } from '../../mail/address-syntax.js';
import type { Domain, Mailbox, NewMailbox } from '../types.js';
import { mapLimit, type CassandraSession } from './cassandra-session.js';
import { MAILBOX_COLUMNS, toDomain, toMailbox } from './row-mappers.js';
import { RecentValues } from './recent-values.js';

/** The one partition of the `domains` table. */
const DOMAINS = 0;
/** How long an address lookup and a mailbox row are served again from memory (store.cassandra.addressCacheMs). */
export const DEFAULT_ADDRESS_CACHE_MS = 2000;
/** Mailbox rows, and addresses, kept at most (oldest dropped first). */
const CACHE_SIZE = 10_000;

/**
 * Domains, mailboxes and aliases in Cassandra. Addresses are unique through lightweight
 * transactions on `addresses_by_name`; everything is stored lower-cased.
 */
export class MailboxDirectory {
  private readonly sql: Record<string, string>;
  /** Mailbox rows read lately, by id (see mailboxById). */
  private readonly recent: RecentValues<Mailbox>;
  /** Addresses found lately: address → mailbox id (see lookup). */
  private readonly found: RecentValues<string>;

  constructor(
    private readonly session: CassandraSession,
    /** How long a lookup is served from memory; 0: never. */
    cacheMs = DEFAULT_ADDRESS_CACHE_MS,
  ) {
    this.recent = new RecentValues(cacheMs, CACHE_SIZE);
    this.found = new RecentValues(cacheMs, CACHE_SIZE);
    const t = (name: string) => session.table(name);
    this.sql = {
      domain: `SELECT name, created_at FROM ${t('domains')} WHERE bucket = ${DOMAINS} AND name = ?`,
      domains: `SELECT name, created_at FROM ${t('domains')} WHERE bucket = ${DOMAINS}`,
      addDomain: `INSERT INTO ${t('domains')} (bucket, name, created_at) VALUES (${DOMAINS}, ?, ?) IF NOT EXISTS`,
      // Conditional like the insert: mixing Paxos and plain writes on one row can reorder them
      // when clocks differ between client and server.
      dropDomain: `DELETE FROM ${t('domains')} WHERE bucket = ${DOMAINS} AND name = ? IF EXISTS`,
      inDomain: `SELECT ${MAILBOX_COLUMNS} FROM ${t('mailboxes_by_domain')} WHERE domain = ?`,
      domainMailboxes: `SELECT address FROM ${t('mailboxes_by_domain')} WHERE domain = ? LIMIT 5`,
      domainAliases: `SELECT alias FROM ${t('aliases_by_domain')} WHERE domain = ? LIMIT 5`,
      byId: `SELECT ${MAILBOX_COLUMNS} FROM ${t('mailboxes')} WHERE id = ?`,
      byName: `SELECT mailbox_id, kind FROM ${t('addresses_by_name')} WHERE address = ?`,
      claim: `INSERT INTO ${t('addresses_by_name')} (address, mailbox_id, kind) VALUES (?, ?, ?) IF NOT EXISTS`,
      release: `DELETE FROM ${t('addresses_by_name')} WHERE address = ? IF mailbox_id = ?`,
      addMailbox: `INSERT INTO ${t('mailboxes')} (id, address, domain, aliases, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      addToDomain: `INSERT INTO ${t('mailboxes_by_domain')} (domain, address, id, aliases, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      addAlias: `INSERT INTO ${t('aliases_by_domain')} (domain, alias, mailbox_id) VALUES (?, ?, ?)`,
      dropMailbox: `DELETE FROM ${t('mailboxes')} WHERE id = ?`,
      dropFromDomain: `DELETE FROM ${t('mailboxes_by_domain')} WHERE domain = ? AND address = ?`,
      dropAlias: `DELETE FROM ${t('aliases_by_domain')} WHERE domain = ? AND alias = ?`,
    };
  }

  async addDomain(name: string): Promise<Domain> {
    const domain = normalizeDomain(name);
    const createdAt = new Date();
    const { applied } = await this.session.lwt(this.sql.addDomain, [domain, createdAt]);
    if (!applied) throw new InputError(`domain: ${domain} already exists`);
    return { name: domain, createdAt };
  }

  async listDomains(): Promise<Domain[]> {
    return (await this.session.rows(this.sql.domains)).map(toDomain);
  }

  /** Refuses while mailboxes or aliases of the domain remain: they would become unreachable. */
  async removeDomain(name: string): Promise<void> {
    const domain = normalizeDomain(name);
    if (!(await this.isLocalDomain(domain))) throw new NotFoundError(`domain ${domain} does not exist`);
    const mailboxes = await this.session.rows(this.sql.domainMailboxes, [domain]);
    if (mailboxes.length > 0) {
      const list = mailboxes.map((r) => r.get('address') as string).join(', ');
      throw new InputError(`domain: ${domain} still has mailboxes (${list}); remove them first`);
    }
    const aliases = await this.session.rows(this.sql.domainAliases, [domain]);
    if (aliases.length > 0) {
      const list = aliases.map((r) => r.get('alias') as string).join(', ');
      throw new InputError(`domain: ${domain} is still used by aliases (${list}); remove them first`);
    }
    const { applied } = await this.session.lwt(this.sql.dropDomain, [domain]);
    if (!applied) throw new NotFoundError(`domain ${domain} does not exist`);
  }

  async isLocalDomain(name: string): Promise<boolean> {
    const domain = String(name).trim().toLowerCase().replace(/\.$/, '');
    if (domain === '') return false;
    return (await this.session.execute(this.sql.domain, [domain], { idempotent: true })).rowLength > 0;
  }

  /**
   * Checks syntax and domains, claims the address and every alias (each a lightweight
   * transaction; on any collision the claims made are released and nothing else is written),
   * then writes the mailbox rows.
   */
  async addMailbox(input: NewMailbox): Promise<Mailbox> {
    const { address, domain } = normalizeAddress(input.address);
    const quota = input.quotaBytes;
    if (!Number.isSafeInteger(quota) || quota < 0) {
      throw new InputError(`quotaBytes: ${String(quota)} is not a whole number of bytes >= 0`);
    }
    const aliases = (input.aliases ?? []).map((alias) => normalizeAddress(alias, 'aliases'));
    await this.requireDomain(domain, 'address', address);
    const seen = new Set([address]);
    for (const alias of aliases) {
      await this.requireDomain(alias.domain, 'aliases', alias.address);
      if (seen.has(alias.address)) throw new InputError(`aliases: ${alias.address} is given twice`);
      seen.add(alias.address);
    }
    // A mailbox copied by hermod migrate-data keeps its id and creation time.
    const id = input.imported?.id ?? ulid();
    await this.claimAll(id, address, [...seen]);
    const box: Mailbox = {
      id,
      address,
      aliases: aliases.map((a) => a.address).sort(),
      quotaBytes: quota,
      createdAt: input.imported?.createdAt ?? new Date(),
    };
    const values = [box.aliases, quota, box.createdAt];
    await Promise.all([
      this.session.execute(this.sql.addMailbox, [id, address, domain, ...values], { idempotent: true }),
      this.session.execute(this.sql.addToDomain, [domain, address, id, ...values], { idempotent: true }),
      ...aliases.map((a) =>
        this.session.execute(this.sql.addAlias, [a.domain, a.address, id], { idempotent: true }),
      ),
    ]);
    return box;
  }

  /** All mailboxes, or those of one domain, ordered by address. */
  async listMailboxes(domain?: string): Promise<Mailbox[]> {
    const domains =
      domain === undefined ? (await this.listDomains()).map((d) => d.name) : [String(domain).trim().toLowerCase()];
    const perDomain = await mapLimit(domains, 8, (name) => this.session.rows(this.sql.inDomain, [name]));
    return perDomain
      .flat()
      .map(toMailbox)
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /** Exact address, then alias; failing both, the same without a `+tag` sub-address. */
  async resolveAddress(address: string): Promise<Mailbox | null> {
    const parsed = tryNormalizeAddress(address);
    if (!parsed) return null;
    const exact = await this.lookup(parsed.address);
    if (exact) return exact;
    const base = stripSubAddress(parsed);
    return base ? this.lookup(base) : null;
  }

  /**
   * The mailbox row. A row read in the last `cacheMs` is served again without a read: a
   * delivery asks for the mailbox its RCPT resolved a moment before, and a mailbox's listed fields
   * never change. Only removal ends a mailbox, and a delivery racing a removal is already a case
   * the removal documents; the cache widens that moment by at most `cacheMs`.
   */
  async mailboxById(id: string): Promise<Mailbox | null> {
    const cached = this.recent.get(id);
    if (cached) return cached;
    const row = (await this.session.execute(this.sql.byId, [id], { idempotent: true })).first();
    const mailbox = row ? toMailbox(row) : null;
    if (mailbox) this.recent.set(id, mailbox);
    return mailbox;
  }

  /** The mailbox whose primary address this is, or NotFoundError. */
  async primaryMailbox(address: string): Promise<Mailbox> {
    const parsed = tryNormalizeAddress(address);
    const row = parsed ? (await this.session.execute(this.sql.byName, [parsed.address])).first() : null;
    const mailbox = row && row.get('kind') === 'primary' ? await this.mailboxById(row.get('mailbox_id') as string) : null;
    if (!mailbox) throw new NotFoundError(`mailbox ${address} does not exist`);
    return mailbox;
  }

  /** Frees the mailbox's address and aliases: RCPT stops finding it (first step of a removal). */
  async releaseAddresses(mailbox: Mailbox): Promise<void> {
    this.forget(mailbox);
    for (const name of [mailbox.address, ...mailbox.aliases]) await this.session.lwt(this.sql.release, [name, mailbox.id]);
  }

  /** Drops the mailbox's own rows and frees its address and aliases (called last on removal). */
  async dropMailbox(mailbox: Mailbox): Promise<void> {
    this.forget(mailbox);
    const domain = mailbox.address.slice(mailbox.address.lastIndexOf('@') + 1);
    await Promise.all(
      mailbox.aliases.map((alias) =>
        this.session.execute(this.sql.dropAlias, [alias.slice(alias.lastIndexOf('@') + 1), alias], { idempotent: true }),
      ),
    );
    await this.session.execute(this.sql.dropFromDomain, [domain, mailbox.address], { idempotent: true });
    await this.session.execute(this.sql.dropMailbox, [mailbox.id], { idempotent: true });
    for (const name of [mailbox.address, ...mailbox.aliases]) await this.session.lwt(this.sql.release, [name, mailbox.id]);
  }

  /**
   * The mailbox an address names. A found address is served from memory for `cacheMs` (RCPT
   * asks for the same few addresses over and over); an address not found is never kept, so a
   * mailbox or alias added on another node is reachable at once and never refused with a 5xx.
   */
  private async lookup(address: string): Promise<Mailbox | null> {
    const cached = this.found.get(address);
    if (cached) return this.mailboxById(cached);
    const row = (await this.session.execute(this.sql.byName, [address], { idempotent: true })).first();
    if (!row) return null;
    const mailboxId = row.get('mailbox_id') as string;
    this.found.set(address, mailboxId);
    return this.mailboxById(mailboxId);
  }

  /** This node stops serving the mailbox and its addresses from memory (its removal began here). */
  private forget(mailbox: Mailbox): void {
    this.recent.delete(mailbox.id);
    for (const name of [mailbox.address, ...mailbox.aliases]) this.found.delete(name);
  }

  /** Claims every address for the mailbox, or none: a collision releases what was claimed. */
  private async claimAll(id: string, primary: string, addresses: string[]): Promise<void> {
    const claimed: string[] = [];
    let taken: string | undefined;
    for (const name of addresses) {
      const { applied } = await this.session.lwt(this.sql.claim, [name, id, name === primary ? 'primary' : 'alias']);
      if (!applied) {
        taken = name;
        break;
      }
      claimed.push(name);
    }
    if (taken === undefined) return;
    for (const name of claimed) await this.session.lwt(this.sql.release, [name, id]);
    const field = taken === primary ? 'address' : 'aliases';
    throw new InputError(`${field}: ${taken} is already in use by another mailbox or alias`);
  }

  private async requireDomain(domain: string, field: string, address: string): Promise<void> {
    if (!(await this.isLocalDomain(domain))) {
      throw new InputError(`${field}: ${address} is not in a local domain; add domain ${domain} first`);
    }
  }
}
