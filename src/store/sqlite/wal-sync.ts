import { open, type FileHandle } from 'node:fs/promises';
import type Database from 'better-sqlite3';

/**
 * Makes commits durable off the event loop. better-sqlite3 runs on the main thread, so with
 * synchronous=FULL every delivery commit blocked all sessions for one fsync of the WAL. A batch of
 * deliveries is instead committed with synchronous=NORMAL (WAL frames written, not yet synced)
 * and then the WAL file is fsync'd in libuv's thread pool; only after that fsync returns do the
 * deliveries resolve and get their 250. The bytes on disk at that moment are the ones FULL would
 * have synced (the WAL up to and including the batch's commit frame), and NORMAL keeps the WAL
 * itself consistent (its header is synced on restart, the database after each checkpoint), so the
 * guarantee per 250 is unchanged while parsing of other messages goes on during the fsync.
 */
export class WalSync {
  private readonly walFile: string | null;
  private inFlight: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** Kept open between syncs: SQLite keeps the WAL file (same inode) while the connection is open. */
  private handle: Promise<FileHandle> | null = null;

  /** @param dbFile - the database file (`:memory:` has no WAL: durable() then resolves at once). */
  constructor(
    private readonly db: Database.Database,
    dbFile: string,
  ) {
    this.walFile = db.memory || dbFile === ':memory:' || dbFile.startsWith('file:') ? null : `${dbFile}-wal`;
  }

  /**
   * Runs `commit` (synchronous database work) with this connection's commit-time fsync turned
   * off; the caller must await {@link durable} before acknowledging anything it wrote.
   */
  unsynced<T>(commit: () => T): T {
    if (!this.walFile) return commit();
    this.db.pragma('synchronous = NORMAL');
    try {
      return commit();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Resolves once everything committed before the call is on disk. A caller that arrives while an
   * fsync runs waits for the one after it (that fsync may have started before its commit), and
   * all such callers share it: concurrent batches cost one more fsync, not one each.
   */
  durable(): Promise<void> {
    if (!this.walFile) return Promise.resolve();
    if (!this.inFlight) return this.start();
    this.next ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const run = this.syncWal().finally(() => {
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async syncWal(): Promise<void> {
    this.handle ??= open(this.walFile!, 'r');
    try {
      await (await this.handle).sync();
    } catch (err) {
      // Opened afresh next time, in case the file was the trouble.
      const stale = this.handle;
      this.handle = null;
      await stale.then((h) => h.close()).catch(() => undefined);
      throw err;
    }
  }

  /** Waits for a sync in flight and closes the WAL handle; call before closing the database. */
  async close(): Promise<void> {
    await Promise.allSettled([this.inFlight, this.next]);
    const handle = this.handle;
    this.handle = null;
    await handle?.then((h) => h.close()).catch(() => undefined);
  }
}
