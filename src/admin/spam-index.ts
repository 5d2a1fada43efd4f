import type { SearchIndex } from '../search/search-index.js';
import type { DriftReport } from '../search/index-drift.js';
import type { BayesTokenStore, EntryStore, MailDirectory, OutboxStore } from '../store/roles.js';
import { BAYES_GLOBAL_SCOPE, type BayesCounts, type Mailbox } from '../store/types.js';

/**
 * Messages learned as spam and ham, globally and (given a mailbox) for it, keyed `global` and the
 * mailbox's address: what `spam stats --json` prints and GET /api/v1/spam/stats answers.
 */
export async function spamStats(store: Pick<BayesTokenStore, 'bayesTotals'>, mailbox?: Mailbox): Promise<Record<string, BayesCounts>> {
  const rows: [string, BayesCounts][] = [['global', await store.bayesTotals(BAYES_GLOBAL_SCOPE)]];
  if (mailbox) rows.push([mailbox.address, await store.bayesTotals(mailbox.id)]);
  return Object.fromEntries(rows);
}

/**
 * The search index against the store, for one mailbox or every one (then also whole mailboxes
 * the store no longer has): what `index verify --json` prints.
 */
export async function verifyIndex(store: MailDirectory & EntryStore & OutboxStore, search: SearchIndex, mailbox?: Mailbox): Promise<DriftReport> {
  const { measureDrift } = await import('../search/index-drift.js');
  const mailboxes = mailbox ? [mailbox] : await store.listMailboxes();
  return measureDrift(store, search, mailboxes, mailbox === undefined);
}
