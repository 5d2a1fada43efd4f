import type { Logger } from 'pino';
import type { EntryStore, MailDirectory } from '../store/roles.js';
import type { Mailbox } from '../store/types.js';
import { entryDocuments } from './entry-document.js';
import type { SearchIndex } from './search-index.js';

/** How far the rebuild of one mailbox has come. */
export interface MailboxProgress {
  /** The oldest entry id done so far; listing resumes below it (ids are time-ordered). */
  cursor?: string;
  done: boolean;
  entries: number;
  bytes: number;
}

/** What a reindex run leaves behind, so an interrupted run resumes where it stopped. */
export interface ReindexCheckpoint {
  /** What is being rebuilt: `all`, or `mailbox:<id>`. */
  scope: string;
  startedAt: string;
  mailboxes: Record<string, MailboxProgress>;
}

/** Where the checkpoint lives (a file under dataDir for the CLI). */
export interface CheckpointStore {
  load(): ReindexCheckpoint | null;
  save(checkpoint: ReindexCheckpoint): void;
  clear(): void;
}

/** Options for {@link Reindexer}. */
export interface ReindexOptions {
  store: (MailDirectory & EntryStore);
  index: SearchIndex;
  log: Logger;
  mailboxes: Mailbox[];
  /** Rebuilding everything: documents of mailboxes the store no longer has are removed too. */
  all: boolean;
  checkpoints: CheckpointStore;
  /** Entries per index write. @defaultValue 200 */
  batchSize?: number;
  /** Stop (as if interrupted) once this many entries are done in this run. */
  stopAfter?: number;
  /** Polled between batches; true stops the run with the checkpoint saved (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called after each batch with the entries and bytes it indexed. */
  onBatch?: (entries: number, bytes: number) => void;
}

/** What a run did. */
export interface ReindexResult {
  /** Entries indexed in this run. */
  entries: number;
  /** Entries the checkpoint says earlier runs had already done. */
  resumedEntries: number;
  /** Documents removed because the store no longer has their entry. */
  removed: number;
  /** True when the run stopped early; the checkpoint is kept. */
  stopped: boolean;
}

/** The checkpoint a run starts from: the saved one for the same scope, or a fresh one. */
export function startingCheckpoint(checkpoints: CheckpointStore, scope: string): ReindexCheckpoint {
  const saved = checkpoints.load();
  if (saved && saved.scope === scope) return saved;
  return { scope, startedAt: new Date().toISOString(), mailboxes: {} };
}

let lastVersion = 0;

/**
 * A version above everything the outbox has handed out so far (they are microsecond timestamps
 * too), so a rebuilt document replaces whatever the index holds, while a change committed after
 * this moment still wins over it.
 */
export function reindexVersion(now = Date.now()): number {
  lastVersion = Math.max(now * 1000, lastVersion + 1);
  return lastVersion;
}

/**
 * Rebuilds the index from the store: every entry of the chosen mailboxes is read, turned into a
 * document and written with a fresh version; documents whose entry is gone are removed. Progress is
 * checkpointed after every batch, so a run that is interrupted (Ctrl-C, a crash, `stopAfter`)
 * resumes at the batch it was in.
 */
export class Reindexer {
  private readonly batchSize: number;
  private result: ReindexResult = { entries: 0, resumedEntries: 0, removed: 0, stopped: false };

  constructor(private readonly options: ReindexOptions) {
    this.batchSize = options.batchSize ?? 200;
  }

  async run(scope: string): Promise<ReindexResult> {
    const checkpoint = startingCheckpoint(this.options.checkpoints, scope);
    this.result = { entries: 0, resumedEntries: 0, removed: 0, stopped: false };
    for (const progress of Object.values(checkpoint.mailboxes)) this.result.resumedEntries += progress.entries;
    for (const mailbox of this.options.mailboxes) {
      const progress = (checkpoint.mailboxes[mailbox.id] ??= { done: false, entries: 0, bytes: 0 });
      if (progress.done) continue;
      const seen = await this.rebuildMailbox(mailbox, progress, checkpoint);
      if (!seen) return this.stop(checkpoint);
      this.result.removed += await this.removeOrphans(mailbox.id, seen);
      progress.done = true;
      this.options.checkpoints.save(checkpoint);
    }
    if (this.options.all) this.result.removed += await this.removeOrphanedMailboxes();
    this.options.checkpoints.clear();
    return this.result;
  }

  private stop(checkpoint: ReindexCheckpoint): ReindexResult {
    this.options.checkpoints.save(checkpoint);
    this.result.stopped = true;
    return this.result;
  }

  /** Indexes a mailbox batch by batch from its cursor; null when the run has to stop. */
  private async rebuildMailbox(
    mailbox: Mailbox,
    progress: MailboxProgress,
    checkpoint: ReindexCheckpoint,
  ): Promise<Set<string> | null> {
    const { store, index, log } = this.options;
    const seen = new Set<string>();
    for (;;) {
      const limit = this.nextLimit();
      if (limit === 0) return null;
      const version = reindexVersion();
      const page = await store.listEntries({ mailboxId: mailbox.id, limit, before: progress.cursor });
      if (page.length === 0) return seen;
      const { documents } = await entryDocuments(store, page.map((entry) => ({ entry, version })), log);
      await index.upsert(documents);
      const bytes = page.reduce((sum, entry) => sum + entry.size, 0);
      for (const entry of page) seen.add(entry.id);
      progress.cursor = page[page.length - 1].id;
      progress.entries += page.length;
      progress.bytes += bytes;
      this.result.entries += page.length;
      this.options.checkpoints.save(checkpoint);
      this.options.onBatch?.(page.length, bytes);
      if (page.length < limit) return seen;
    }
  }

  /** The size of the next batch: 0 when the run has to stop now. */
  private nextLimit(): number {
    if (this.options.shouldStop?.()) return 0;
    if (this.options.stopAfter === undefined) return this.batchSize;
    return Math.max(0, Math.min(this.batchSize, this.options.stopAfter - this.result.entries));
  }

  /**
   * Removes the mailbox's documents whose entry the store no longer holds. Ids indexed in this run
   * are known to exist; any other (from before a resume, or an orphan) is looked up.
   */
  private async removeOrphans(mailboxId: string, seen: Set<string>): Promise<number> {
    const { store, index } = this.options;
    const orphans: string[] = [];
    for (const entryId of (await index.inventory(mailboxId)).keys()) {
      if (seen.has(entryId)) continue;
      const entry = await store.getEntry(entryId);
      if (!entry || entry.mailboxId !== mailboxId) orphans.push(entryId);
    }
    const version = reindexVersion();
    await index.remove(orphans.map((entryId) => ({ entryId, mailboxId, version })));
    return orphans.length;
  }

  /** Removes every document of mailboxes the store no longer has. */
  private async removeOrphanedMailboxes(): Promise<number> {
    const known = new Set((await this.options.store.listMailboxes()).map((m) => m.id));
    let removed = 0;
    for (const mailboxId of await this.options.index.mailboxIds()) {
      if (known.has(mailboxId)) continue;
      const version = reindexVersion();
      const ids = [...(await this.options.index.inventory(mailboxId)).keys()];
      await this.options.index.remove(ids.map((entryId) => ({ entryId, mailboxId, version })));
      removed += ids.length;
    }
    return removed;
  }
}
