import type { Logger } from 'pino';
import type { EntryStore } from '../store/roles.js';
import type { MailboxEntry } from '../store/types.js';
import { buildSearchDocument, summaryDocument } from './document-builder.js';
import type { SearchDocument } from './search-index.js';

/**
 * The search document of a stored entry: built from its raw bytes, or — when the raw message is
 * missing or cannot be parsed — from the entry's summary alone, so one bad message never holds
 * back the indexer or a reindex. Shared by the Indexer and `hermod reindex`.
 */
export async function entryDocument(
  store: EntryStore,
  entry: MailboxEntry,
  version: number,
  log: Logger,
): Promise<SearchDocument> {
  const raw = await store.getRaw(entry.sha256);
  if (!raw) {
    log.warn({ entryId: entry.id }, 'indexer: raw message missing, indexing the summary only');
    return summaryDocument(entry, version);
  }
  try {
    return await buildSearchDocument(entry, raw, version);
  } catch (err) {
    log.warn({ err, entryId: entry.id }, 'indexer: cannot parse message, indexing the summary only');
    return summaryDocument(entry, version);
  }
}
