import { headerBlock, parseHeaders, type HeaderField } from './headers.js';
import { NotFoundError } from '../errors.js';
import type { SearchIndex } from '../search/search-index.js';
import type { EntryStore } from '../store/roles.js';
import type { LedgerLine, ListEntriesOptions, MailboxEntry } from '../store/types.js';

/** One header of a shown message; `forged` marks an incoming Authentication-Results that claimed our authserv-id. */
export type ShownHeader = HeaderField & { forged?: true };

/** A message as `message show --json` and GET /api/v1/messages/ID show it: the entry and its headers. */
export type MessageView = MailboxEntry & { headers: ShownHeader[] };

/** Entries of a mailbox (a folder of it), newest first, paged with `before`. */
export function listMessages(store: Pick<EntryStore, 'listEntries'>, options: ListEntriesOptions): Promise<MailboxEntry[]> {
  return store.listEntries(options);
}

/** @throws NotFoundError for an unknown id. */
export async function getMessage(store: Pick<EntryStore, 'getEntry'>, id: string): Promise<MailboxEntry> {
  const entry = await store.getEntry(id);
  if (!entry) throw new NotFoundError(`unknown message id "${id}"`);
  return entry;
}

/**
 * The entry with its parsed header block (empty when the raw bytes are missing). An incoming
 * Authentication-Results header that claimed our own authserv-id (the auth plugin lists those in
 * its ledger line, RFC 8601 §5) is marked forged, so no view presents it as Hermod's verdict; the
 * raw bytes stay as they arrived.
 */
export async function showMessage(store: Pick<EntryStore, 'getFullMessage' | 'getLedger'>, entry: MailboxEntry): Promise<MessageView> {
  const [full, ledger] = await Promise.all([store.getFullMessage(entry.id), store.getLedger(entry.id)]);
  const forged = new Set(forgedAuthResults(ledger).map(normalizeSpace));
  const headers: ShownHeader[] = parseHeaders(full ? headerBlock(full) : '').map((h) =>
    forged.size > 0 && h.name.toLowerCase() === 'authentication-results' && forged.has(normalizeSpace(h.value)) ? { ...h, forged: true } : h,
  );
  return { ...entry, headers };
}

/** The forged Authentication-Results values the auth plugin recorded in the ledger. */
function forgedAuthResults(ledger: LedgerLine[]): string[] {
  const values = ledger.find((line) => line.plugin === 'auth')?.details?.forgedAuthResults;
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

function normalizeSpace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** The ledger of a message: what each plugin found and decided. */
export async function messageLedger(store: Pick<EntryStore, 'getEntry' | 'getLedger'>, id: string): Promise<LedgerLine[]> {
  const entry = await getMessage(store, id);
  return store.getLedger(entry.id);
}

/**
 * A full-text search in one mailbox, as entries. A hit whose entry is gone means the index lags
 * the store; it is skipped rather than failing the search.
 */
export async function searchMessages(
  store: Pick<EntryStore, 'getEntry'>,
  search: Pick<SearchIndex, 'search'>,
  mailboxId: string,
  queryText: string,
  limit: number,
): Promise<MailboxEntry[]> {
  const { parseSearchQuery } = await import('../search/query-parser.js');
  const hits = await search.search(mailboxId, parseSearchQuery(queryText), limit);
  const entries = await Promise.all(hits.map((h) => store.getEntry(h.entryId)));
  return entries.filter((e): e is MailboxEntry => e !== null);
}
