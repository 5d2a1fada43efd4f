import { HermodError } from '../errors.js';
import type { MessageStore } from './message-store.js';
import type { Delivery, Mailbox, MailboxEntry } from './types.js';

/** The target store holds something that contradicts the source (a different id for one address or message). */
export class DataConflictError extends HermodError {
  constructor(message: string) {
    super('HERMOD_DATA_CONFLICT', message);
  }
}

/** How far the copy of one mailbox has come. */
export interface CopyProgress {
  /** The oldest entry id copied; listing resumes below it. */
  cursor?: string;
  done: boolean;
  entries: number;
  bytes: number;
}

/** What a copy leaves behind, so an interrupted run resumes where it stopped. */
export interface CopyCheckpoint {
  /** `sqlite->cassandra`, …: a checkpoint of another copy is not reused. */
  scope: string;
  startedAt: string;
  /** Domains, mailboxes, aliases and passwords are in the target. */
  directoryDone: boolean;
  mailboxes: Record<string, CopyProgress>;
}

/** Options for {@link DataCopier}. */
export interface DataCopierOptions {
  source: MessageStore;
  target: MessageStore;
  /** Loads and saves the checkpoint (a file under dataDir for the CLI). */
  checkpoints: { load(): CopyCheckpoint | null; save(c: CopyCheckpoint): void };
  /** Entries listed per page (and checkpointed together). @defaultValue 200 */
  batchSize?: number;
  /** Entries written at once within a page. @defaultValue 16 */
  concurrency?: number;
  /** Stop (as if interrupted) once this many entries are copied in this run. */
  stopAfter?: number;
  /** Polled between pages; true stops the run with the checkpoint saved (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called after each page with the entries and bytes it copied. */
  onBatch?: (entries: number, bytes: number) => void;
}

/** The checkpoint a copy starts from: the saved one of the same scope, or a fresh one. */
export function copyStartingCheckpoint(checkpoints: DataCopierOptions['checkpoints'], scope: string): CopyCheckpoint {
  const saved = checkpoints.load();
  if (saved && saved.scope === scope) return saved;
  return { scope, startedAt: new Date().toISOString(), directoryDone: false, mailboxes: {} };
}

/**
 * Copies everything a mail store holds from one MessageStore to another, through the public
 * interface: domains, mailboxes (same ids and creation times, aliases, quota, password hash),
 * then every entry with its raw bytes, Hermod's prepended headers, classification and ledger, under
 * the same entry id and arrival time (Delivery.imported). Each write is idempotent — a mailbox
 * that exists with the same id is kept, an entry delivered again is a duplicate — so a resumed or
 * repeated run only adds what is missing. Not copied: the outbox (the search index is rebuilt
 * afterwards) and Bayes statistics (retrain with `hermod spam train`).
 */
export class DataCopier {
  private readonly batchSize: number;
  private readonly concurrency: number;
  private copied = 0;

  constructor(private readonly options: DataCopierOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.concurrency = options.concurrency ?? 16;
  }

  /** Copies what the checkpoint says is left; `completed` is false when it stopped early. */
  async run(scope: string): Promise<{ completed: boolean; entries: number; checkpoint: CopyCheckpoint }> {
    const checkpoint = copyStartingCheckpoint(this.options.checkpoints, scope);
    this.copied = 0;
    const mailboxes = await this.options.source.listMailboxes();
    if (!checkpoint.directoryDone) {
      await this.copyDirectory(mailboxes);
      checkpoint.directoryDone = true;
      this.options.checkpoints.save(checkpoint);
    }
    for (const mailbox of mailboxes) {
      const progress = (checkpoint.mailboxes[mailbox.id] ??= { done: false, entries: 0, bytes: 0 });
      if (progress.done) continue;
      if (!(await this.copyMailbox(mailbox, progress, checkpoint))) {
        return { completed: false, entries: this.copied, checkpoint };
      }
      progress.done = true;
      this.options.checkpoints.save(checkpoint);
    }
    return { completed: true, entries: this.copied, checkpoint };
  }

  /** Domains, then mailboxes with their ids, aliases, quota and password hash. */
  private async copyDirectory(mailboxes: Mailbox[]): Promise<void> {
    const { source, target } = this.options;
    const existing = new Set((await target.listDomains()).map((d) => d.name));
    for (const domain of await source.listDomains()) {
      if (!existing.has(domain.name)) await target.addDomain(domain.name);
    }
    for (const mailbox of mailboxes) {
      const found = await target.resolveAddress(mailbox.address);
      if (found && found.id !== mailbox.id) {
        throw new DataConflictError(`target store: ${mailbox.address} is mailbox ${found.id} there, ${mailbox.id} here`);
      }
      if (!found) {
        await target.addMailbox({
          address: mailbox.address,
          aliases: mailbox.aliases,
          quotaBytes: mailbox.quotaBytes,
          imported: { id: mailbox.id, createdAt: mailbox.createdAt },
        });
      }
      const hash = await source.getPasswordHash(mailbox.address);
      if (hash !== null) await target.setPassword(mailbox.address, hash);
    }
  }

  /** Copies a mailbox page by page from its cursor; false when the run has to stop. */
  private async copyMailbox(mailbox: Mailbox, progress: CopyProgress, checkpoint: CopyCheckpoint): Promise<boolean> {
    for (;;) {
      const limit = this.nextLimit();
      if (limit === 0) return false;
      const page = await this.options.source.listEntries({ mailboxId: mailbox.id, limit, before: progress.cursor });
      if (page.length === 0) return true;
      for (let i = 0; i < page.length; i += this.concurrency) {
        await Promise.all(page.slice(i, i + this.concurrency).map((entry) => this.copyEntry(entry)));
      }
      const bytes = page.reduce((sum, entry) => sum + entry.size, 0);
      progress.cursor = page[page.length - 1].id;
      progress.entries += page.length;
      progress.bytes += bytes;
      this.copied += page.length;
      this.options.checkpoints.save(checkpoint);
      this.options.onBatch?.(page.length, bytes);
      if (page.length < limit) return true;
    }
  }

  private nextLimit(): number {
    if (this.options.shouldStop?.()) return 0;
    if (this.options.stopAfter === undefined) return this.batchSize;
    return Math.max(0, Math.min(this.batchSize, this.options.stopAfter - this.copied));
  }

  /** One entry, delivered to the target under its own id and arrival time. */
  private async copyEntry(entry: MailboxEntry): Promise<void> {
    const delivery = await this.asDelivery(entry);
    const result = await this.options.target.deliver(delivery);
    if (result.entryId !== entry.id) {
      throw new DataConflictError(
        `target store: mailbox ${entry.mailboxAddress} holds message ${entry.sha256} as entry ${result.entryId}, not ${entry.id}`,
      );
    }
  }

  private async asDelivery(entry: MailboxEntry): Promise<Delivery> {
    const { source } = this.options;
    const [raw, full, ledger] = await Promise.all([
      source.getRaw(entry.sha256),
      source.getFullMessage(entry.id),
      source.getLedger(entry.id),
    ]);
    if (!raw || !full) throw new DataConflictError(`source store: entry ${entry.id} has lost its raw message ${entry.sha256}`);
    return {
      mailboxId: entry.mailboxId,
      raw,
      sha256: entry.sha256,
      // getFullMessage is the prepended headers followed by the raw bytes.
      prependHeaders: full.subarray(0, full.length - raw.length).toString('utf8'),
      folder: entry.folder,
      flags: entry.flags,
      tags: entry.tags,
      importance: entry.importance,
      spamScore: entry.spamScore,
      threadId: entry.threadId,
      summary: entry.summary,
      envelope: entry.envelope,
      ledger,
      imported: { entryId: entry.id, receivedAt: entry.receivedAt },
    };
  }
}
