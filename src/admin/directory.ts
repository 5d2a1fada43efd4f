import { NotFoundError } from '../errors.js';
import type { MailDirectory } from '../store/roles.js';
import type { Domain, Mailbox } from '../store/types.js';

/** A domain as `domain list --json` and GET /api/v1/domains show it. */
export interface DomainListing extends Domain {
  mailboxes: number;
}

/** A mailbox as `mailbox list --json` and GET /api/v1/mailboxes show it. */
export interface MailboxListing extends Mailbox {
  usedBytes: number;
}

/** The local domains with the number of mailboxes in each. */
export async function listDomains(store: Pick<MailDirectory, 'listDomains' | 'listMailboxes'>): Promise<DomainListing[]> {
  const [domains, mailboxes] = await Promise.all([store.listDomains(), store.listMailboxes()]);
  const counts = new Map<string, number>();
  for (const m of mailboxes) {
    const d = m.address.slice(m.address.lastIndexOf('@') + 1);
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return domains.map((d) => ({ ...d, mailboxes: counts.get(d.name) ?? 0 }));
}

/** The mailboxes (of one domain, when given) with the bytes each uses. */
export async function listMailboxes(store: Pick<MailDirectory, 'listMailboxes' | 'mailboxUsage'>, domain?: string): Promise<MailboxListing[]> {
  const mailboxes = await store.listMailboxes(domain);
  return Promise.all(mailboxes.map(async (m) => ({ ...m, usedBytes: await store.mailboxUsage(m.id) })));
}

/**
 * The mailbox an address names (primary address or alias), checked for syntax by the caller.
 * @param field how the caller names the input, for the error (`--mailbox`, `mailbox`)
 * @throws NotFoundError when no mailbox has the address.
 */
export async function findMailbox(store: Pick<MailDirectory, 'resolveAddress'>, address: string, field = '--mailbox'): Promise<Mailbox> {
  const mailbox = await store.resolveAddress(address);
  if (!mailbox) throw new NotFoundError(`unknown mailbox "${address}" (${field})`);
  return mailbox;
}
