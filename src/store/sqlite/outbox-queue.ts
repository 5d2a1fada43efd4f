import type Database from 'better-sqlite3';
import type { OutboxItem } from '../types.js';
import { toOutboxItem, type OutboxRow } from './row-mappers.js';

/** First retry delay after a failed indexing attempt; doubles per attempt. */
export const OUTBOX_BACKOFF_BASE_MS = 1_000;
/** Longest retry delay: the indexer should catch up within minutes once search is back. */
export const OUTBOX_BACKOFF_MAX_MS = 5 * 60_000;

// Shared by every store in the process so two instances on one file still hand out increasing
// versions. Microseconds since the epoch keep versions increasing across restarts as well, and stay
// comparable with a Cassandra adapter that uses write time; the +1 guard covers same-tick calls and
// small clock steps backwards.
let lastVersion = 0;

/** A document version greater than every one handed out before in this process. */
function nextVersion(now: number): number {
  lastVersion = Math.max(now * 1000, lastVersion + 1);
  return lastVersion;
}

/**
 * The indexer's outbox: one row per change to a mailbox entry. Writers call `enqueue` inside their
 * own transaction, so the change and its outbox row commit together (index follows store).
 */
export class OutboxQueue {
  private readonly insert: Database.Statement;
  private readonly due: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly backOff: Database.Statement;
  private readonly count: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO outbox (entry_id, mailbox_id, op, version, attempts, next_attempt_at)
       VALUES (?, ?, ?, ?, 0, ?)`,
    );
    this.due = db.prepare(
      `SELECT seq, entry_id, mailbox_id, op, version, attempts FROM outbox
       WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?`,
    );
    this.remove = db.prepare('DELETE FROM outbox WHERE seq = ?');
    // Shift capped at 20 so the intermediate value stays small; the MIN caps the delay itself.
    this.backOff = db.prepare(
      `UPDATE outbox SET attempts = attempts + 1,
         next_attempt_at = @now + MIN(@max, @base << MIN(attempts, 20))
       WHERE seq = @seq`,
    );
    this.count = db.prepare('SELECT COUNT(*) AS n FROM outbox');
    // Versions must also exceed those still pending from an earlier run with a faster clock.
    const row = db.prepare('SELECT MAX(version) AS v FROM outbox').get() as { v: number | null };
    lastVersion = Math.max(lastVersion, row.v ?? 0);
  }

  /** Records a change; call inside the transaction that makes the change. */
  enqueue(entryId: string, mailboxId: string, op: OutboxItem['op'], now: number): void {
    this.insert.run(entryId, mailboxId, op, nextVersion(now), now);
  }

  /** Oldest items whose retry time has come. */
  pending(limit: number, now: number): OutboxItem[] {
    const rows = this.due.all(now, Math.max(0, Math.floor(limit))) as OutboxRow[];
    return rows.map(toOutboxItem);
  }

  /** Drops applied items; unknown seqs are ignored (an ack may arrive twice). */
  ack(seqs: number[]): void {
    this.db.transaction(() => {
      for (const seq of seqs) this.remove.run(seq);
    })();
  }

  /** Counts a failed attempt and pushes the next one back: 1 s, 2 s, 4 s … at most 5 min. */
  fail(seqs: number[], now: number): void {
    this.db.transaction(() => {
      for (const seq of seqs) {
        this.backOff.run({ seq, now, base: OUTBOX_BACKOFF_BASE_MS, max: OUTBOX_BACKOFF_MAX_MS });
      }
    })();
  }

  length(): number {
    return (this.count.get() as { n: number }).n;
  }
}
