import type { Logger } from 'pino';
import { NotFoundError } from './errors.js';
import { Indexer } from './search/indexer.js';
import type { SearchIndex } from './search/search-index.js';
import type { MessageStore } from './store/message-store.js';
import type { FolderSummary, Mailbox, MailboxEntry } from './store/types.js';

/**
 * Operator actions on stored mail that more than one admin surface offers (the `hermod` CLI, an
 * HTTP admin API): they take the services, validated input, and return plain results.
 */

/** A mailbox's folders with counts and sizes. */
export interface MailboxFolders {
  mailbox: Pick<Mailbox, 'id' | 'address'>;
  folders: FolderSummary[];
}

/** Lists the folders of the mailbox an address (primary or alias) resolves to. */
export async function mailboxFolders(store: MessageStore, address: string): Promise<MailboxFolders> {
  const mailbox = await store.resolveAddress(address);
  if (!mailbox) throw new NotFoundError(`unknown mailbox "${address}"`);
  return { mailbox: { id: mailbox.id, address: mailbox.address }, folders: await store.listFolders(mailbox.id) };
}

/** One message deleted (or, in a dry run, that would be). */
export interface DeletedMessage {
  id: string;
  mailbox: string;
  folder: string;
  size: number;
  subject: string;
  /** The raw bytes went too (no other entry held them); always false in a dry run. */
  blobRemoved: boolean;
}

export interface DeletionResult {
  dryRun: boolean;
  messages: DeletedMessage[];
  /** Index changes still waiting in the outbox after the deletion tried to apply them. */
  indexPending: number;
}

/** Bounds the index catch-up a deletion does itself; the server's indexer does the rest. */
const MAX_INDEX_BATCHES = 20;

/**
 * Deletes messages (mailbox entries) by id from the store and from the search index. Every id is
 * looked up first: one unknown id is a NotFoundError naming it, and nothing is deleted. The
 * raw bytes go when no other entry holds them. Each deletion queues an index delete in the same
 * step; the outbox is then drained here, so the index no longer finds the messages when this
 * returns, unless the search engine is unreachable (then `indexPending` says how much waits for
 * the indexer of `hermod serve`).
 */
export async function deleteMessages(
  services: { store: MessageStore; search: SearchIndex; log: Logger },
  ids: readonly string[],
  options: { dryRun?: boolean } = {},
): Promise<DeletionResult> {
  const { store } = services;
  const unique = [...new Set(ids)];
  const entries = await Promise.all(unique.map((id) => store.getEntry(id)));
  const unknown = unique.filter((_, i) => !entries[i]);
  if (unknown.length > 0) throw new NotFoundError(`unknown message id${unknown.length > 1 ? 's' : ''} ${unknown.map((id) => `"${id}"`).join(', ')}; nothing deleted`);
  const found = entries as MailboxEntry[];
  if (options.dryRun) return { dryRun: true, messages: found.map((e) => describe(e, false)), indexPending: await store.outboxLength() };
  const messages: DeletedMessage[] = [];
  for (const entry of found) {
    const { blobRemoved } = await store.deleteEntry(entry.id);
    messages.push(describe(entry, blobRemoved));
  }
  const indexer = new Indexer({ store, index: services.search, log: services.log.child({ component: 'indexer' }) });
  for (let batch = 0; batch < MAX_INDEX_BATCHES; batch++) {
    if ((await indexer.drainOnce()) === 0) break;
  }
  return { dryRun: false, messages, indexPending: await store.outboxLength() };
}

function describe(entry: MailboxEntry, blobRemoved: boolean): DeletedMessage {
  return {
    id: entry.id,
    mailbox: entry.mailboxAddress,
    folder: entry.folder,
    size: entry.size,
    subject: entry.summary.subject,
    blobRemoved,
  };
}
