import type { EntryStore, MailDirectory, OutboxStore } from '../store/roles.js';
import type { Mailbox, MailboxEntry } from '../store/types.js';
import type { IndexedEntry, SearchIndex } from './search-index.js';

/** Entries read per listing call while comparing. */
const PAGE = 1000;

/** How one mailbox's index differs from its store. */
export interface MailboxDrift {
  mailboxId: string;
  address: string;
  /** Entries in the store. */
  entries: number;
  /** Live documents in the index. */
  indexed: number;
  /** In the store, not in the index. */
  missing: string[];
  /** In both, but the index holds an older state: its folder or tags differ from the store's. */
  stale: string[];
  /** In the index, not in the store (removed entries the index still shows). */
  orphaned: string[];
}

/** The drift of a whole check. */
export interface DriftReport {
  mailboxes: MailboxDrift[];
  /** Mailbox ids the index holds documents for that the store does not know (all-mailbox checks). */
  orphanedMailboxes: string[];
  /** Changes still waiting in the outbox: drift the indexer is about to remove. */
  outboxPending: number;
}

/** True when the report shows any difference at all. */
export function hasDrift(report: DriftReport): boolean {
  return (
    report.orphanedMailboxes.length > 0 ||
    report.mailboxes.some((m) => m.missing.length + m.stale.length + m.orphaned.length > 0)
  );
}

/**
 * Compares the store with the index for some mailboxes (or, with `all`, every mailbox plus the
 * mailboxes only the index still knows).
 */
export async function measureDrift(
  store: (MailDirectory & EntryStore & OutboxStore),
  index: SearchIndex,
  mailboxes: Mailbox[],
  all: boolean,
): Promise<DriftReport> {
  const report: DriftReport = { mailboxes: [], orphanedMailboxes: [], outboxPending: 0 };
  for (const mailbox of mailboxes) report.mailboxes.push(await mailboxDrift(store, index, mailbox));
  if (all) {
    const known = new Set(mailboxes.map((m) => m.id));
    report.orphanedMailboxes = (await index.mailboxIds()).filter((id) => !known.has(id));
  }
  report.outboxPending = await store.outboxLength();
  return report;
}

/**
 * One mailbox. The index is read first, then the store: an entry delivered in between shows as
 * missing (true for a moment) rather than an indexed entry showing as orphaned.
 */
export async function mailboxDrift(store: (MailDirectory & EntryStore & OutboxStore), index: SearchIndex, mailbox: Mailbox): Promise<MailboxDrift> {
  const indexed = await index.inventory(mailbox.id);
  const drift: MailboxDrift = {
    mailboxId: mailbox.id,
    address: mailbox.address,
    entries: 0,
    indexed: indexed.size,
    missing: [],
    stale: [],
    orphaned: [],
  };
  const unseen = new Set(indexed.keys());
  for await (const entry of entriesOf(store, mailbox.id)) {
    drift.entries++;
    unseen.delete(entry.id);
    const state = indexed.get(entry.id);
    if (!state) drift.missing.push(entry.id);
    else if (!sameState(entry, state)) drift.stale.push(entry.id);
  }
  drift.orphaned = [...unseen].sort();
  return drift;
}

/** Folder and tags as the index holds them: lower-cased, tags in any order. */
export function sameState(entry: MailboxEntry, state: IndexedEntry): boolean {
  if (entry.folder.toLowerCase() !== state.folder) return false;
  const storeTags = entry.tags.map((t) => t.toLowerCase()).sort();
  const indexTags = [...state.tags].sort();
  return storeTags.length === indexTags.length && storeTags.every((tag, i) => tag === indexTags[i]);
}

/** Every entry of a mailbox, newest first, a page at a time (`after` resumes below that id). */
export async function* entriesOf(store: (MailDirectory & EntryStore & OutboxStore), mailboxId: string, after?: string): AsyncGenerator<MailboxEntry> {
  let before = after;
  for (;;) {
    const page = await store.listEntries({ mailboxId, limit: PAGE, before });
    yield* page;
    if (page.length < PAGE) return;
    before = page[page.length - 1].id;
  }
}
