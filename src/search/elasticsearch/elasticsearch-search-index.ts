import { Client, type estypes } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { SearchIndexError } from '../search-error.js';
import type { IndexedEntry, SearchDocument, SearchHit, SearchIndex, SearchQuery } from '../search-index.js';
import {
  chunkPairs,
  firstBulkFailure,
  ndjsonBody,
  removalPairs,
  upsertPairs,
  type BulkPair,
  type Removal,
} from './es-bulk.js';
import { isUnavailable, searchError, statusOf } from './es-errors.js';
import { indexNames, templateRequest, type IndexNames, type IndexSettings } from './es-mapping.js';
import { buildSearchQuery, RESULT_SORT } from './es-query.js';
import { listMailboxIds, scanMailbox } from './es-scan.js';

/** Options for {@link ElasticsearchSearchIndex}. */
export interface ElasticsearchSearchIndexOptions {
  /** Node URLs, e.g. `['http://127.0.0.1:9200']`. */
  nodes: string[];
  /** Prefix of the template, index and alias names (see indexNames). @defaultValue "hermod" */
  indexPrefix?: string;
  /** Shards, replicas and refresh interval of the index when Hermod creates it. */
  settings?: Partial<IndexSettings>;
  /** Time limit of one request. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** Basic-auth credentials; never logged. */
  auth?: { username: string; password: string };
  /** Where a deferred set-up is reported. */
  log?: Logger;
}

/** Most hits one search returns (Elasticsearch's default index.max_result_window). */
const MAX_RESULT_WINDOW = 10_000;
/** Bulk bodies sent at once when one call is split (see MAX_BULK_BYTES). */
const BULK_CONCURRENCY = 4;

/**
 * Request options of bulk writes. The client's own retry of a connection fault waits 1–2 s, then
 * 2–4 s (exponential, up to 4 s): a write to an unreachable cluster would fail only after 3–6 s,
 * on top of the indexer's own back-off, so a restored cluster would wait up to 4 s more for the
 * next attempt. Writes come from the indexer, which paces its own retries, and from reindex,
 * which resumes from its checkpoint: the client retries at once (for a socket that was merely
 * stale) and then reports the fault.
 */
const WRITE_REQUEST_OPTIONS = { retryBackoff: () => 0 };
/**
 * What a bulk response carries back: whether anything failed, and per item only what
 * firstBulkFailure reads (not index, version, shards and sequence numbers of every document).
 */
const BULK_RESPONSE_FIELDS = ['errors', 'items.*._id', 'items.*.status', 'items.*.error'];

/**
 * The search index on Elasticsearch: one index (behind an alias) made from a composable template
 * with an explicit mapping (es-mapping.ts), documents routed by mailbox, bulk writes with external
 * versioning, and removals kept as tombstones so an old update never overwrites a newer removal.
 *
 * Writes use `refresh: wait_for`: a call resolves once a search can see it (the contract), at the
 * price of waiting for the next refresh (index.refresh_interval) — batches amortise that.
 *
 * Set-up (template, index, alias) runs in `init()`. When the cluster is unreachable then, `init()`
 * still resolves and every later call retries the set-up first: Hermod starts and delivers while
 * Elasticsearch is down, and the indexer catches up once it is back. A cluster that answers but
 * refuses the set-up (bad credentials, a conflicting template) fails `init()`.
 */
export class ElasticsearchSearchIndex implements SearchIndex {
  private readonly names: IndexNames;
  private readonly settings: IndexSettings;
  private readonly options: ElasticsearchSearchIndexOptions;
  private client: Client | null = null;
  private setup: Promise<void> | null = null;

  constructor(options: ElasticsearchSearchIndexOptions) {
    this.options = options;
    this.names = indexNames(options.indexPrefix ?? 'hermod');
    this.settings = { shards: 1, replicas: 1, refreshIntervalMs: 1000, ...options.settings };
  }

  /** The template, index and alias names in use. */
  get indices(): IndexNames {
    return this.names;
  }

  async init(): Promise<void> {
    if (this.client) return;
    this.client = new Client({
      nodes: this.options.nodes,
      auth: this.options.auth,
      requestTimeout: this.options.requestTimeoutMs ?? 30_000,
      maxRetries: 2,
      // GET / may be refused (405) by locked-down clusters; nothing here needs it.
      sniffOnStart: false,
    });
    try {
      await this.ready();
    } catch (err) {
      if (!isUnavailable(err)) {
        const client = this.client;
        this.client = null;
        await client.close();
        throw searchError('set-up', err);
      }
      this.options.log?.warn({ err: searchError('set-up', err) }, 'elasticsearch unreachable: set-up deferred');
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.setup = null;
    await client?.close();
  }

  async upsert(docs: SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    let pairs: BulkPair[];
    try {
      pairs = upsertPairs(this.names.alias, docs);
    } catch (err) {
      throw new SearchIndexError(`search index (elasticsearch): upsert refused: ${(err as Error).message}`, { cause: err });
    }
    await this.bulk('upsert', pairs);
  }

  async remove(entries: Removal[]): Promise<void> {
    if (entries.length === 0) return;
    await this.bulk('remove', removalPairs(this.names.alias, entries));
  }

  async search(mailboxId: string, query: SearchQuery, limit: number): Promise<SearchHit[]> {
    const size = Math.min(Math.floor(limit), MAX_RESULT_WINDOW);
    if (!(size > 0)) return [];
    const response = await this.call('search', (client) =>
      client.search({
        index: this.names.alias,
        routing: mailboxId,
        size,
        query: buildSearchQuery(mailboxId, query),
        sort: RESULT_SORT,
        _source: false,
        track_total_hits: false,
      }),
    );
    // The sort values are the date (epoch ms) and the entry id: no need to read _source.
    return response.hits.hits.map((hit) => {
      const [date, entryId] = hit.sort as [number, string];
      return { entryId, date: new Date(date) };
    });
  }

  async versions(mailboxId: string): Promise<Map<string, number>> {
    const inventory = await this.inventory(mailboxId);
    return new Map([...inventory].map(([id, state]) => [id, state.version]));
  }

  async inventory(mailboxId: string): Promise<Map<string, IndexedEntry>> {
    return this.call('inventory', (client) => scanMailbox(client, this.names.alias, mailboxId));
  }

  async mailboxIds(): Promise<string[]> {
    return this.call('mailboxIds', (client) => listMailboxIds(client, this.names.alias));
  }

  /**
   * Deletes the index, its alias and the template: everything this prefix made. For tests and
   * for starting over; `hermod reindex --all` fills a new index again.
   */
  async drop(): Promise<void> {
    await this.call('drop', async (client) => {
      await client.indices.delete({ index: this.names.pattern, ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: this.names.template }).catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
    }, false);
    this.setup = null;
  }

  /** Sends pairs as one or more bulk bodies (a few at a time), each waiting for visibility. */
  private async bulk(operation: string, pairs: BulkPair[]): Promise<void> {
    const chunks = chunkPairs(pairs);
    await this.call(operation, async (client) => {
      for (let i = 0; i < chunks.length; i += BULK_CONCURRENCY) {
        const responses = await Promise.all(
          chunks
            .slice(i, i + BULK_CONCURRENCY)
            .map((chunk) =>
              client.bulk(
                // The client's typings want objects; a string body is sent as it is (serialised once, in es-bulk.ts).
                { operations: ndjsonBody(chunk) as unknown as estypes.BulkOperationContainer[], refresh: 'wait_for', filter_path: BULK_RESPONSE_FIELDS },
                WRITE_REQUEST_OPTIONS,
              ),
            ),
        );
        for (const response of responses) {
          const failure = firstBulkFailure(response);
          if (failure) throw new SearchIndexError(`search index (elasticsearch): ${operation} failed: ${failure}`);
        }
      }
    });
  }

  /** Runs one request on the open client after the set-up, wrapping any failure. */
  private async call<T>(operation: string, fn: (client: Client) => Promise<T>, needsSetup = true): Promise<T> {
    const client = this.client;
    if (!client) throw new SearchIndexError(`search index (elasticsearch): ${operation} on a closed index`);
    try {
      if (needsSetup) await this.ready();
      return await fn(client);
    } catch (err) {
      throw searchError(operation, err);
    }
  }

  /** The set-up, done once per open index; a failed attempt is forgotten so the next call retries. */
  private ready(): Promise<void> {
    this.setup ??= this.createIndex().catch((err: unknown) => {
      this.setup = null;
      throw err;
    });
    return this.setup;
  }

  /** Puts the template (always, so settings follow the config), then the index with its alias. */
  private async createIndex(): Promise<void> {
    const client = this.client;
    if (!client) throw new SearchIndexError('search index (elasticsearch): set-up on a closed index');
    await client.indices.putIndexTemplate(templateRequest(this.names, this.settings));
    if (await client.indices.existsAlias({ name: this.names.alias })) return;
    try {
      await client.indices.create({
        index: this.names.index,
        aliases: { [this.names.alias]: { is_write_index: true } },
        wait_for_active_shards: 1,
      });
    } catch (err) {
      // Another Hermod node created it at the same moment: fine.
      if (errorType(err) !== 'resource_already_exists_exception') throw err;
    }
  }
}

function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
