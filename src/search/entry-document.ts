import type { Logger } from 'pino';
import type { MessageContent } from '../mail/message-content.js';
import type { EntryStore } from '../store/roles.js';
import type { MailboxEntry } from '../store/types.js';
import { buildSearchDocument, documentFromContent, summaryDocument } from './document-builder.js';
import type { SearchDocument } from './search-index.js';

/** An entry to index, at the version its document gets. */
export interface DocumentRequest {
  entry: MailboxEntry;
  version: number;
}

/** Where content parsed at delivery may be found (the ContentHandoff of this process). */
export interface ContentSource {
  get(sha256: string): MessageContent | undefined;
}

/** The documents, in the order asked, and the SHA-256s whose content came from the source. */
export interface EntryDocuments {
  documents: SearchDocument[];
  handedOver: Set<string>;
}

/**
 * Raw messages read from the store at once: one batched read each (a few requests on a
 * distributed store instead of three per message), bounded in count and in bytes so a backlog
 * of large messages is not held in memory at once.
 */
const RAW_GROUP_ENTRIES = 64;
const RAW_GROUP_BYTES = 16 * 1024 * 1024;

/**
 * The search documents of stored entries. An entry whose content the source holds (parsed at
 * delivery, the same reading as the indexer's) is built from it; the others from their raw bytes,
 * read in batches and parsed, or — when the raw message is missing or cannot be parsed — from the
 * entry's summary alone, so one bad message never holds back the indexer or a reindex. Shared by
 * the Indexer and `hermod reindex`.
 */
export async function entryDocuments(
  store: Pick<EntryStore, 'getRaws'>,
  requests: readonly DocumentRequest[],
  log: Logger,
  contents?: ContentSource,
): Promise<EntryDocuments> {
  const documents = new Array<SearchDocument>(requests.length);
  const handedOver = new Set<string>();
  const fromRaw: number[] = [];
  for (let i = 0; i < requests.length; i++) {
    const { entry, version } = requests[i];
    const content = contents?.get(entry.sha256);
    if (!content) {
      fromRaw.push(i);
      continue;
    }
    documents[i] = await documentFromContent(entry, content, version);
    handedOver.add(entry.sha256);
  }
  for (const group of rawGroups(fromRaw, requests)) {
    const raws = await store.getRaws([...new Set(group.map((i) => requests[i].entry.sha256))]);
    await Promise.all(
      group.map(async (i) => {
        const { entry, version } = requests[i];
        documents[i] = await documentFromRaw(entry, raws.get(entry.sha256) ?? null, version, log);
      }),
    );
  }
  return { documents, handedOver };
}

/** Splits the indexes into groups of at most RAW_GROUP_ENTRIES entries and about RAW_GROUP_BYTES. */
function rawGroups(indexes: number[], requests: readonly DocumentRequest[]): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  let bytes = 0;
  for (const i of indexes) {
    const size = requests[i].entry.size;
    if (group.length > 0 && (group.length >= RAW_GROUP_ENTRIES || bytes + size > RAW_GROUP_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(i);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The document from the raw bytes, or from the summary when they are missing or unparseable. */
async function documentFromRaw(
  entry: MailboxEntry,
  raw: Buffer | null,
  version: number,
  log: Logger,
): Promise<SearchDocument> {
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
