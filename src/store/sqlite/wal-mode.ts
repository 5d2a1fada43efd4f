import type Database from 'better-sqlite3';

/**
 * `journal_mode = WAL` on a new file. SQLite may answer SQLITE_BUSY at once, without calling the
 * busy handler, when another connection holds a shared lock on the file while it upgrades (it
 * cannot wait without risking a deadlock); the other node is then opening the same new file, so
 * a short pause and another try succeed once it is done. This runs only when a store opens.
 */
export function switchToWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, 5 + Math.floor(Math.random() * 20));
    }
  }
}
