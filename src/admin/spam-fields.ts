/** The spam fields `message list --json` adds to each entry, so an audit needs no call per message. */
import type { EntryStore } from '../store/roles.js';
import type { LedgerLine, MailboxEntry } from '../store/types.js';

/** The Bayes filter's say on one message at delivery; null when bayes did not run. */
export interface BayesFields {
  verdict: string;
  probability: number | null;
}

/** The bayes plugin's verdict and probability from a ledger (the last bayes line). */
export function bayesFields(ledger: readonly LedgerLine[]): BayesFields | null {
  const line = [...ledger].reverse().find((l) => l.plugin === 'bayes');
  if (!line) return null;
  const { verdict, probability } = (line.details ?? {}) as { verdict?: unknown; probability?: unknown };
  return {
    verdict: typeof verdict === 'string' ? verdict : 'unknown',
    probability: typeof probability === 'number' ? probability : null,
  };
}

/** Each entry with `spam: { score, bayes }` (score is the entry's spamScore, from the scorer). */
export async function withSpamFields(
  store: Pick<EntryStore, 'getLedger'>,
  entries: MailboxEntry[],
): Promise<(MailboxEntry & { spam: { score: number; bayes: BayesFields | null } })[]> {
  const out = [];
  for (const entry of entries) {
    out.push({ ...entry, spam: { score: entry.spamScore, bayes: bayesFields(await store.getLedger(entry.id)) } });
  }
  return out;
}
