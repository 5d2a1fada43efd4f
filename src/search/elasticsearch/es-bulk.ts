import type { estypes } from '@elastic/elasticsearch';
import type { SearchDocument } from '../search-index.js';
import { foldText, keyword } from './es-text.js';

/** One removal, as SearchIndex.remove takes it. */
export interface Removal {
  entryId: string;
  mailboxId: string;
  version: number;
}

/**
 * One bulk action with its document, as the two NDJSON lines sent (serialised once, here: the
 * size is known without a second JSON.stringify, and the client sends the text as it is).
 */
export interface BulkPair {
  lines: string;
  /** Length of `lines` (UTF-16 units: close enough to bytes for cutting bodies). */
  bytes: number;
}

/**
 * Bulk bodies are cut at about this size: Elasticsearch refuses a request over
 * `http.max_content_length` (100 MB), and a batch of 200 messages may hold 1 MB bodies each.
 */
export const MAX_BULK_BYTES = 8 * 1024 * 1024;

/** `_id` of an entry's document: one id space per mailbox, so a removal names its mailbox exactly. */
export function documentId(mailboxId: string, entryId: string): string {
  return `${mailboxId}/${entryId}`;
}

/** The indexed form of a document: text folded (see es-text.ts), keywords lower-cased. */
export function toSource(doc: SearchDocument): Record<string, unknown> {
  const date = doc.date.getTime();
  if (!Number.isFinite(date)) throw new TypeError(`document ${doc.entryId} has an invalid date`);
  return {
    entryId: doc.entryId,
    mailboxId: doc.mailboxId,
    threadId: doc.threadId,
    folder: keyword(doc.folder),
    tags: doc.tags.map(keyword),
    from: keyword(doc.from),
    to: doc.to.map(keyword),
    cc: doc.cc.map(keyword),
    subject: foldText(doc.subject),
    body: foldText(doc.body),
    attachments: doc.attachmentNames.map(foldText),
    hasAttachment: doc.hasAttachment,
    date,
    size: doc.size,
    version: doc.version,
    deleted: false,
  };
}

/**
 * Index actions for upserts with external versioning: Elasticsearch keeps a document only when
 * its version is greater than the one it holds (equal is stale, so a replayed batch is a no-op).
 * Within the call only the highest version per entry is sent.
 */
export function upsertPairs(index: string, docs: SearchDocument[]): BulkPair[] {
  const latest = new Map<string, SearchDocument>();
  for (const doc of docs) {
    const id = documentId(doc.mailboxId, doc.entryId);
    const seen = latest.get(id);
    if (!seen || doc.version > seen.version) latest.set(id, doc);
  }
  return [...latest.entries()].map(([id, doc]) =>
    pair({ _index: index, _id: id, routing: doc.mailboxId, version: doc.version, version_type: 'external' }, toSource(doc)),
  );
}

/**
 * Tombstones for removals, with `external_gte`: a removal at the version of the indexed document
 * (or higher) replaces it, a lower one is refused. See MAPPINGS in es-mapping.ts for why a
 * removal writes a tombstone instead of deleting.
 */
export function removalPairs(index: string, removals: Removal[]): BulkPair[] {
  const latest = new Map<string, Removal>();
  for (const removal of removals) {
    const id = documentId(removal.mailboxId, removal.entryId);
    const seen = latest.get(id);
    if (!seen || removal.version > seen.version) latest.set(id, removal);
  }
  return [...latest.entries()].map(([id, r]) =>
    pair(
      { _index: index, _id: id, routing: r.mailboxId, version: r.version, version_type: 'external_gte' },
      { entryId: r.entryId, mailboxId: r.mailboxId, version: r.version, deleted: true },
    ),
  );
}

function pair(action: estypes.BulkIndexOperation, doc: Record<string, unknown>): BulkPair {
  const lines = `${JSON.stringify({ index: action })}\n${JSON.stringify(doc)}\n`;
  return { lines, bytes: lines.length };
}

/** Splits pairs into bulk bodies of at most {@link MAX_BULK_BYTES} (a bigger single pair goes alone). */
export function chunkPairs(pairs: BulkPair[], maxBytes = MAX_BULK_BYTES): BulkPair[][] {
  const chunks: BulkPair[][] = [];
  let current: BulkPair[] = [];
  let size = 0;
  for (const p of pairs) {
    if (current.length > 0 && size + p.bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(p);
    size += p.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The NDJSON body of one bulk request (the client sends a string as it is). */
export function ndjsonBody(chunk: BulkPair[]): string {
  return chunk.map((p) => p.lines).join('');
}

/**
 * The first real failure in a bulk response, or null. A version conflict (409) is the external
 * versioning doing its job — an older write arriving after a newer one — and not an error.
 */
export function firstBulkFailure(response: estypes.BulkResponse): string | null {
  if (!response.errors) return null;
  // The response is filtered (filter_path): items carry _id, status and error only.
  for (const item of response.items ?? []) {
    const result = Object.values(item)[0] as estypes.BulkResponseItem | undefined;
    if (!result?.error || result.status === 409) continue;
    return `${result._id}: ${result.status} ${result.error.type}: ${result.error.reason ?? ''}`.trim();
  }
  return null;
}
