import type { MessageStore } from '../store/message-store.js';
import type { MailboxEntry } from '../store/types.js';

/** Entries read per listing call while scanning. */
const PAGE = 500;

/** What to scan: one mailbox, optionally one folder, optionally only entries since a time. */
export interface ScanOptions {
  mailboxId: string;
  folder?: string;
  /** Only entries that arrived at or after this time. */
  since?: Date;
}

/**
 * All entries of a mailbox (or folder), newest first, paging with the id cursor. Ids are
 * time-ordered, so the scan stops at the first entry older than `since`. Entries are collected
 * first so a progress bar knows its total; a mailbox of 100,000 entries is a few tens of MB.
 */
export async function scanEntries(store: MessageStore, options: ScanOptions): Promise<MailboxEntry[]> {
  const out: MailboxEntry[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.listEntries({ mailboxId: options.mailboxId, folder: options.folder, limit: PAGE, before });
    for (const entry of page) {
      if (options.since && entry.receivedAt.getTime() < options.since.getTime()) return out;
      out.push(entry);
    }
    if (page.length < PAGE) return out;
    before = page[page.length - 1].id;
  }
}
