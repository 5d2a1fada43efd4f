import type { Logger } from 'pino';
import { StoreError } from '../errors.js';
import type { EntryStore, OutboxStore } from '../store/roles.js';
import type { OutboxItem } from '../store/types.js';
import type { ContentHandoff } from './content-handoff.js';
import { entryDocuments, type DocumentRequest } from './entry-document.js';
import { SearchIndexError } from './search-error.js';
import type { SearchDocument, SearchIndex } from './search-index.js';

/** Options for {@link Indexer}. */
export interface IndexerOptions {
  store: (OutboxStore & EntryStore);
  index: SearchIndex;
  log: Logger;
  /** Outbox items taken per batch. @defaultValue 200 */
  batchSize?: number;
  /** Wait between polls when the outbox is empty, in milliseconds. @defaultValue 500 */
  pollMs?: number;
  /**
   * Longest wait between retries while the index (or the store) keeps failing, in milliseconds:
   * short, so a backlog starts draining about this long after the engine is back. @defaultValue 2000
   */
  maxBackoffMs?: number;
  /**
   * Content parsed at delivery in this process: an entry whose content is held there is indexed
   * without reading its raw message back and parsing it again. @defaultValue none (read and parse)
   */
  handoff?: ContentHandoff;
}

/** Longest pause after a partial batch, in milliseconds (never longer than `pollMs`). */
const GATHER_MS = 100;
/** A backlog is drained in batches up to this many times `batchSize` (one bulk request each). */
const BACKLOG_BATCH_FACTOR = 10;
/** One removal, as SearchIndex.remove takes it. */
type Removal = Parameters<SearchIndex['remove']>[0][number];

/** Outbox items and the index writes made from them. */
interface PreparedBatch {
  items: OutboxItem[];
  upserts: SearchDocument[];
  removals: Removal[];
  /** SHA-256s whose content came from the handoff: released once the batch is applied. */
  handedOver: Set<string>;
}

/** What one batch did: items applied (acked), and whether the batch failed. */
interface BatchResult {
  applied: number;
  /** Items read from the outbox for the batch. */
  taken: number;
  failed: boolean;
}

/**
 * Drains the store's outbox into the search index.
 *
 * A batch is applied whole or retried whole: the index's external versioning makes a replayed
 * upsert or removal a no-op, so at-least-once is enough. While the index (or the store) fails,
 * items stay in the outbox, the failure is logged and the loop backs off; it never throws, so
 * delivery goes on and the index catches up when it comes back.
 */
export class Indexer {
  private readonly store: (OutboxStore & EntryStore);
  private readonly index: SearchIndex;
  private readonly log: Logger;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;
  private readonly handoff: ContentHandoff | undefined;
  /** The running loop, if any; each start() makes a new one so a late stop() only ends its own. */
  private loop: { stopping: boolean; done: Promise<void> } | null = null;
  private wake: (() => void) | null = null;
  /** The batch the index was unavailable for, sent again by the next attempt (see drainBatch). */
  private unsent: PreparedBatch | null = null;

  constructor(options: IndexerOptions) {
    this.store = options.store;
    this.index = options.index;
    this.log = options.log;
    this.batchSize = options.batchSize ?? 200;
    this.pollMs = options.pollMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 2_000;
    this.handoff = options.handoff;
  }

  /** Starts the background loop; calling it while running does nothing. */
  start(): void {
    if (this.loop) return;
    const loop = { stopping: false, done: Promise.resolve() };
    loop.done = this.run(loop);
    this.loop = loop;
  }

  /** Stops the loop after the batch in progress (if any) has finished. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.loop = null;
    loop.stopping = true;
    this.wake?.();
    await loop.done;
  }

  /** Processes one batch; resolves to the number of outbox items applied (0 when empty or failed). */
  async drainOnce(): Promise<number> {
    return (await this.drainBatch()).applied;
  }

  /** Drains until the outbox is empty or a batch makes no progress; resolves to items applied. */
  async drainAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const applied = await this.drainOnce();
      if (applied === 0) return total;
      total += applied;
    }
  }

  /** Outbox items not yet applied to the index. */
  async lag(): Promise<number> {
    return this.store.outboxLength();
  }

  /**
   * The loop. A full batch means a backlog (after an outage, or under load faster than one batch
   * per refresh): the next batch is twice as large, up to BACKLOG_BATCH_FACTOR × batchSize, so a
   * backlog drains in few large bulk requests instead of many refresh waits.
   */
  private async run(loop: { stopping: boolean }): Promise<void> {
    let failures = 0;
    let size = this.batchSize;
    while (!loop.stopping) {
      const result = await this.drainBatch(size);
      if (loop.stopping) break;
      if (result.failed) {
        failures++;
        size = this.batchSize;
        const retryInMs = Math.min(this.pollMs * 2 ** Math.min(failures, 16), this.maxBackoffMs);
        this.log.debug({ failures, retryInMs }, 'indexer: backing off');
        await this.sleep(retryInMs);
      } else if (result.applied === 0) {
        failures = 0;
        await this.sleep(this.pollMs);
      } else {
        failures = 0;
        const full = result.taken >= size;
        size = full ? Math.min(size * 2, this.batchSize * BACKLOG_BATCH_FACTOR) : this.batchSize;
        // A partial batch drained the outbox: pause briefly so the next one gathers more items.
        // An index commit costs nearly the same for 2 documents as for 50 (FTS5 writes a segment
        // per commit), so draining right away under steady load cost several times the CPU.
        if (!full) await this.sleep(Math.min(this.pollMs, GATHER_MS));
      }
    }
  }

  /** Waits `ms`, or less if stop() wakes it. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async drainBatch(limit = this.batchSize): Promise<BatchResult> {
    const started = performance.now();
    // A batch the index could not take is sent again as it was prepared: the engine failed, not
    // the items, and reading and parsing the same entries on every retry of an outage would only
    // load the store and delay the first write once the engine is back.
    const retained = this.unsent;
    this.unsent = null;
    let items: OutboxItem[];
    try {
      items = retained?.items ?? (await this.store.pendingOutbox(limit));
    } catch (err) {
      this.log.error({ err }, 'indexer: cannot read the outbox');
      return { applied: 0, taken: 0, failed: true };
    }
    if (items.length === 0) return { applied: 0, taken: 0, failed: false };
    let batch: PreparedBatch | undefined = retained ?? undefined;
    const ms = { read: performance.now() - started, prepare: 0, write: 0, ack: 0 };
    try {
      let step = performance.now();
      batch ??= { items, ...(await this.prepare(latestPerEntry(items))) };
      ms.prepare = performance.now() - step;
      step = performance.now();
      await this.index.upsert(batch.upserts);
      await this.index.remove(batch.removals);
      ms.write = performance.now() - step;
      step = performance.now();
      await this.store.ackOutbox(items.map((item) => item.seq));
      ms.ack = performance.now() - step;
      this.handoff?.release(batch.handedOver);
    } catch (err) {
      if (batch && err instanceof SearchIndexError && err.unavailable) this.unsent = batch;
      await this.failed(err, items);
      return { applied: 0, taken: items.length, failed: true };
    }
    this.log.debug(
      {
        items: items.length,
        upserts: batch.upserts.length,
        removals: batch.removals.length,
        handedOver: batch.handedOver.size,
        retried: retained !== null,
        ms: Object.fromEntries(Object.entries(ms).map(([step, t]) => [step, Math.round(t)])),
      },
      'indexer: batch applied',
    );
    return { applied: items.length, taken: items.length, failed: false };
  }

  /** Logs a failed batch; items get a per-item delay only when the failure may be theirs. */
  private async failed(err: unknown, items: OutboxItem[]): Promise<void> {
    if (err instanceof SearchIndexError && err.unavailable) {
      // The engine is down: every item would fail alike. The items stay due, and this loop's
      // own back-off (at most maxBackoffMs) paces the retries, so the first attempt after the
      // engine is back drains the outbox instead of waiting out per-item delays of minutes.
      this.log.warn({ err, items: items.length }, 'indexer: search index unavailable, will retry');
      return;
    }
    if (err instanceof StoreError) {
      // The store failed reading entries (an outage): not the items' fault either, so they
      // get no per-item delay that would outlast the outage.
      this.log.warn({ err, items: items.length }, 'indexer: store unavailable, will retry');
      return;
    }
    const attempts = Math.max(...items.map((item) => item.attempts)) + 1;
    this.log.error({ err, items: items.length, attempts }, 'indexer: batch failed, will retry');
    try {
      await this.store.failOutbox(items.map((item) => item.seq));
    } catch (failErr) {
      this.log.error({ err: failErr }, 'indexer: cannot record the failed attempt');
    }
  }

  /**
   * Turns outbox items into index writes; an upsert whose entry is gone becomes a removal. The
   * entries are read in one batched read, so a move or flag change made before this batch is in
   * its document; their content comes from the handoff where held, else from the stored bytes.
   */
  private async prepare(items: OutboxItem[]): Promise<Omit<PreparedBatch, 'items'>> {
    this.handoff?.sweep();
    const upsertIds = items.filter((item) => item.op === 'upsert').map((item) => item.entryId);
    const entries = await this.store.getEntries(upsertIds);
    const requests: DocumentRequest[] = [];
    const removals: Removal[] = [];
    for (const item of items) {
      const entry = item.op === 'upsert' ? entries.get(item.entryId) : undefined;
      if (entry) requests.push({ entry, version: item.version });
      else removals.push({ entryId: item.entryId, mailboxId: item.mailboxId, version: item.version });
    }
    const { documents, handedOver } = await entryDocuments(this.store, requests, this.log, this.handoff);
    return { upserts: documents, removals, handedOver };
  }
}

/**
 * Keeps, per entry, only the item with the highest version: earlier changes in the same batch
 * are superseded anyway. Their seqs are still acked with the batch.
 */
function latestPerEntry(items: OutboxItem[]): OutboxItem[] {
  const latest = new Map<string, OutboxItem>();
  for (const item of items) {
    const seen = latest.get(item.entryId);
    if (!seen || item.version > seen.version) latest.set(item.entryId, item);
  }
  return [...latest.values()];
}
