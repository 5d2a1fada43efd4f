import type { Client, estypes } from '@elastic/elasticsearch';
import type { IndexedEntry } from '../search-index.js';
import { mailboxFilter } from './es-query.js';

/** Documents read per page while scanning a mailbox. */
const PAGE = 5000;
/** How long a point in time stays open between pages. */
const KEEP_ALIVE = '2m';

/** The doc-value fields a scan reads (normalized values: folder and tags come back lower-cased). */
const SCAN_FIELDS = ['entryId', 'version', 'folder', 'tags'];

/**
 * Every live document of a mailbox, read through a point in time (one consistent view of the
 * index, however long the scan takes) with `search_after` paging on the entry id. Only the
 * mailbox's shard is opened (routing).
 */
export async function scanMailbox(client: Client, alias: string, mailboxId: string): Promise<Map<string, IndexedEntry>> {
  const out = new Map<string, IndexedEntry>();
  const pit = await client.openPointInTime({ index: alias, keep_alive: KEEP_ALIVE, routing: mailboxId });
  let pitId = pit.id;
  try {
    let after: estypes.SortResults | undefined;
    for (;;) {
      const page = await client.search({
        pit: { id: pitId, keep_alive: KEEP_ALIVE },
        size: PAGE,
        query: { bool: { filter: mailboxFilter(mailboxId) } },
        sort: [{ entryId: { order: 'asc' } }],
        search_after: after,
        _source: false,
        docvalue_fields: SCAN_FIELDS,
        track_total_hits: false,
      });
      pitId = page.pit_id ?? pitId;
      for (const hit of page.hits.hits) {
        const entry = toIndexedEntry(hit.fields ?? {});
        if (entry) out.set(entry.id, entry.state);
      }
      if (page.hits.hits.length < PAGE) return out;
      after = page.hits.hits[page.hits.hits.length - 1].sort;
    }
  } finally {
    await client.closePointInTime({ id: pitId }).catch(() => undefined);
  }
}

function toIndexedEntry(fields: Record<string, unknown[]>): { id: string; state: IndexedEntry } | null {
  const id = fields.entryId?.[0];
  const version = fields.version?.[0];
  if (typeof id !== 'string' || typeof version !== 'number') return null;
  return {
    id,
    state: {
      version,
      folder: String(fields.folder?.[0] ?? ''),
      tags: (fields.tags ?? []).map(String).sort(),
    },
  };
}

/** Distinct mailbox ids of live documents, paged with a composite aggregation. */
export async function listMailboxIds(client: Client, alias: string): Promise<string[]> {
  const ids: string[] = [];
  let after: Record<string, estypes.FieldValue> | undefined;
  for (;;) {
    const response = await client.search({
      index: alias,
      size: 0,
      query: { term: { deleted: false } },
      aggs: {
        mailboxes: {
          composite: { size: 1000, sources: [{ id: { terms: { field: 'mailboxId' } } }], after },
        },
      },
    });
    const agg = response.aggregations?.mailboxes as estypes.AggregationsCompositeAggregate | undefined;
    const buckets = (agg?.buckets ?? []) as estypes.AggregationsCompositeBucket[];
    for (const bucket of buckets) ids.push(String(bucket.key.id));
    if (buckets.length === 0 || !agg?.after_key) return ids;
    after = agg.after_key;
  }
}
