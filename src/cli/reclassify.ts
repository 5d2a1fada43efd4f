import type { Transaction } from '../pipeline/types.js';
import type { ClassificationUpdate, LedgerLine, MailboxEntry } from '../store/types.js';

/** The folder a message lands in when no plugin suggests one. */
export const INBOX = 'INBOX';

/** What the classify plugin contributed to an entry, read back from a ledger line. */
export interface ClassifyContribution {
  tags: string[];
  importance: number;
  folder?: string;
}

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : []);

/** The contribution a classify ledger line records (tags, importance and folder in its details). */
export function contributionOf(line: LedgerLine | undefined): ClassifyContribution {
  const d = line?.details ?? {};
  return {
    tags: asStrings(d.tags),
    importance: typeof d.importance === 'number' ? d.importance : 0,
    ...(typeof d.folder === 'string' ? { folder: d.folder } : {}),
  };
}

/** The latest classify line of a ledger: the delivery's, or that of the last reclassification. */
export function lastClassifyLine(ledger: readonly LedgerLine[]): LedgerLine | undefined {
  return [...ledger].reverse().find((l) => l.plugin === 'classify');
}

/** The auth plugin's results recorded at delivery (its ledger line's `details.auth`), if any. */
export function deliveredAuth(ledger: readonly LedgerLine[]): Transaction['auth'] {
  const line = [...ledger].reverse().find((l) => l.plugin === 'auth' && typeof l.details?.auth === 'object');
  return (line?.details?.auth ?? undefined) as Transaction['auth'];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && new Set([...a, ...b]).size === a.length;

/**
 * The new classification of an entry after the classify plugin ran again: its old classify
 * contribution (tags, importance, folder) is taken out and the new one put in; tags and
 * importance other plugins gave stay. The folder follows the new rules only while the entry is
 * still where classification put it: mail in Junk stays (spam decisions are the scorer's and
 * the user's), and mail the user moved elsewhere stays there. Null when nothing changes.
 */
export function planReclassification(
  entry: MailboxEntry,
  previous: ClassifyContribution,
  next: ClassifyContribution,
  junkFolder: string,
): ClassificationUpdate | null {
  const dropped = new Set(previous.tags.filter((t) => !next.tags.includes(t)));
  const tags = [...new Set([...entry.tags.filter((t) => !dropped.has(t)), ...next.tags])].sort();
  const importance = Math.max(-10, Math.min(10, Math.round(entry.importance - previous.importance + next.importance)));
  const placedByRules = entry.folder === (previous.folder ?? INBOX);
  const folder = entry.folder !== junkFolder && placedByRules ? (next.folder ?? INBOX) : entry.folder;
  if (sameSet(tags, entry.tags) && importance === entry.importance && folder === entry.folder) return null;
  return { tags, importance, ...(folder !== entry.folder ? { folder } : {}) };
}
