import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { HermodError, QueueError } from '../../errors.js';
import { applyMigrations } from '../../store/sqlite/migrations.js';
import { GroupCommit } from '../../store/sqlite/group-commit.js';
import { openDatabase } from '../../store/sqlite/open-database.js';
import { byAge, matchesSelector, type OutboundQueue } from '../outbound-queue.js';
import { newRecipients, type Deferral, type JobSelector, type Lease, type NewOutboundMessage, type QueueJob, type SentRecord } from '../types.js';
import { QUEUE_MIGRATIONS, type JobRow } from './queue-schema.js';

/** Options for {@link SqliteQueue}. */
export interface SqliteQueueOptions {
  /** queue.sqlite; `':memory:'` for a private in-memory queue. */
  file: string;
  /** @defaultValue 5000 */
  busyTimeoutMs?: number;
}

/** One write of a queue operation, run inside a shared commit. */
type Step = () => unknown;

/**
 * The embedded outbound queue: one SQLite file (WAL, synchronous=FULL) holding the spool and
 * the jobs, so a message accepted with 250 survives a crash. Claims are a transaction, so a CLI
 * process and the server can share the file.
 *
 * The fsync of a commit blocks the event loop (better-sqlite3 is synchronous) for milliseconds,
 * so one commit per write caps the whole process at a few hundred writes a second. Hence:
 * - enqueue, defer, and complete with notices from concurrent callers share one IMMEDIATE
 *   transaction (group commit), each in its own savepoint so one failure rejects only its
 *   caller; every caller resolves only after the commit that holds its write.
 * - claim, postpone and a completion without notices are grouped the same way, and renew runs
 *   alone; all of them commit without an fsync (synchronous=NORMAL for that transaction): they
 *   survive a process crash (the WAL is written), and losing one to an OS crash only leaves the
 *   job to be tried again, as the crash itself would; the next FULL commit syncs them too.
 */
export class SqliteQueue implements OutboundQueue {
  readonly driver = 'sqlite' as const;
  private db: Database.Database | null = null;
  private sql: Record<string, Database.Statement> = {};
  private readonly commits = new GroupCommit<Step, unknown>((steps) => this.commitSteps(steps, true));
  private readonly unsyncedCommits = new GroupCommit<Step, unknown>((steps) => this.commitSteps(steps, false));
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly options: SqliteQueueOptions) {}

  async init(): Promise<void> {
    if (this.db) return;
    try {
      const db = openDatabase(this.options.file, this.options.busyTimeoutMs ?? 5000);
      applyMigrations(db, QUEUE_MIGRATIONS);
      this.db = db;
      this.prepare(db);
    } catch (err) {
      throw asQueueError('open', err);
    }
  }

  async close(): Promise<void> {
    // Writes waiting for the next group commit get it before the file closes.
    await Promise.allSettled([...this.inflight]);
    this.db?.close();
    this.db = null;
  }

  private prepare(db: Database.Database): void {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      spool: p('INSERT INTO spool (message_id, raw, size, created_at) VALUES (?, ?, ?, ?)'),
      addJob: p(`INSERT INTO jobs (id, message_id, domain, sender, recipients, state, created_at, next_attempt_at, size, local, dsn)
                 VALUES (@id, @message_id, @domain, @sender, @recipients, 'queued', @created_at, @next_attempt_at, @size, @local, @dsn)`),
      body: p('SELECT raw FROM spool WHERE message_id = ?'),
      // One indexed range per state, each read in order and cut at one row: an OR over states
      // made SQLite collect and sort every due job on each claim (quadratic in the backlog).
      dueQueued: p(`SELECT * FROM jobs WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT 1`),
      dueDeferred: p(`SELECT * FROM jobs WHERE state = 'deferred' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT 1`),
      lapsed: p(`SELECT * FROM jobs WHERE state = 'active' AND lease_until <= ? ORDER BY next_attempt_at, created_at LIMIT 1`),
      lease: p(`UPDATE jobs SET state = 'active', lease_token = ?, lease_until = ? WHERE id = ?`),
      record: p(`UPDATE jobs SET sent = ? WHERE id = ? AND state = 'active' AND lease_token = ?`),
      renew: p(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'active' AND lease_token = ?`),
      get: p('SELECT * FROM jobs WHERE id = ?'),
      all: p('SELECT * FROM jobs'),
      leased: p(`SELECT * FROM jobs WHERE id = ? AND state = 'active' AND lease_token = ?`),
      delete: p('DELETE FROM jobs WHERE id = ?'),
      dropOrphan: p('DELETE FROM spool WHERE message_id = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE message_id = ?)'),
      defer: p(`UPDATE jobs SET state = 'deferred', recipients = ?, attempts = attempts + 1, next_attempt_at = ?,
                 last_attempt_at = ?, last_error = ?, delay_warned = ?, sent = NULL, lease_token = NULL, lease_until = NULL WHERE id = ?`),
      postpone: p(`UPDATE jobs SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, next_attempt_at = ?,
                 lease_token = NULL, lease_until = NULL WHERE id = ?`),
      setState: p(`UPDATE jobs SET state = @to, next_attempt_at = CASE WHEN @due THEN @now ELSE next_attempt_at END
                 WHERE id = @id AND state IN (SELECT value FROM json_each(@from))`),
    };
  }

  async enqueue(message: NewOutboundMessage): Promise<QueueJob[]> {
    return this.grouped('enqueue', () => this.insert(message));
  }

  /** Spools the body and adds the jobs; the caller holds the write transaction. */
  private insert(message: NewOutboundMessage): QueueJob[] {
    const createdAt = message.createdAt ?? Date.now();
    this.sql.spool.run(message.messageId, message.raw, message.raw.length, createdAt);
    return message.destinations.map((dest, i) => {
      const id = `${message.messageId}.${i + 1}`;
      this.sql.addJob.run({
        id,
        message_id: message.messageId,
        domain: dest.domain.toLowerCase(),
        sender: message.sender,
        recipients: JSON.stringify(newRecipients(dest.recipients, message.recipientDsn)),
        created_at: createdAt,
        next_attempt_at: createdAt,
        size: message.raw.length,
        local: dest.local ? 1 : 0,
        dsn: message.dsn ? JSON.stringify(message.dsn) : null,
      });
      return toJob(this.sql.get.get(id) as JobRow);
    });
  }

  async readBody(messageId: string): Promise<Buffer | null> {
    return this.run('readBody', () => (this.sql.body.get(messageId) as { raw: Buffer } | undefined)?.raw ?? null);
  }

  async claim(leaseMs: number, now = Date.now()): Promise<Lease | null> {
    return this.grouped(
      'claim',
      () => {
        const row = firstDue([this.sql.dueQueued, this.sql.dueDeferred, this.sql.lapsed].map((q) => q.get(now) as JobRow | undefined));
        if (!row) return null;
        const token = randomUUID();
        this.sql.lease.run(token, now + leaseMs, row.id);
        return { job: { ...toJob(row), state: 'active' as const }, token };
      },
      false,
    );
  }

  async renew(lease: Lease, leaseMs: number): Promise<void> {
    this.run('renew', (db) =>
      unsynced(db, () => {
        if (this.sql.renew.run(Date.now() + leaseMs, lease.job.id, lease.token).changes === 0) throw leaseLost(lease);
      }),
    );
  }

  // Without an fsync, like a completion without notices: it is in the WAL, so it outlives the
  // death of the process, which is what it guards against. An OS crash can lose it, and the
  // completion it precedes with it: the job is then sent again, as before any record.
  async record(lease: Lease, sent: SentRecord): Promise<void> {
    await this.grouped(
      'record',
      () => {
        if (this.sql.record.run(JSON.stringify(sent), lease.job.id, lease.token).changes === 0) throw leaseLost(lease);
      },
      false,
    );
  }

  // The settlement and its notices share one IMMEDIATE transaction: either the job is settled
  // and every bounce is queued, or nothing happened and the lease lapses into a new attempt.
  async complete(lease: Lease, notices: NewOutboundMessage[] = []): Promise<void> {
    const settle = () => {
      this.requireLease(lease);
      this.sql.delete.run(lease.job.id);
      this.sql.dropOrphan.run(lease.job.messageId, lease.job.messageId);
      for (const notice of notices) this.insert(notice);
    };
    // A completion that queues no notice only removes a finished job, as Postfix unlinks a
    // delivered queue file without an fsync: should the OS lose it, the job is tried again,
    // which a crash just before it would do anyway. With notices it must be on disk.
    await this.grouped('complete', settle, notices.length > 0);
  }

  async defer(lease: Lease, d: Deferral, notices: NewOutboundMessage[] = []): Promise<void> {
    await this.grouped('defer', () => {
      this.requireLease(lease);
      const recipients = JSON.stringify(d.recipients);
      this.sql.defer.run(recipients, d.nextAttemptAt, Date.now(), d.lastError, d.delayWarned ? 1 : 0, lease.job.id);
      for (const notice of notices) this.insert(notice);
    });
  }

  async postpone(lease: Lease, until: number): Promise<void> {
    await this.grouped(
      'postpone',
      () => {
        this.requireLease(lease);
        this.sql.postpone.run(until, lease.job.id);
      },
      false,
    );
  }

  async get(id: string): Promise<QueueJob | null> {
    return this.run('get', () => {
      const row = this.sql.get.get(id) as JobRow | undefined;
      return row ? toJob(row) : null;
    });
  }

  async list(selector: JobSelector = {}, now = Date.now()): Promise<QueueJob[]> {
    return this.run('list', () =>
      (this.sql.all.all() as JobRow[])
        .map(toJob)
        .filter((job) => matchesSelector(job, selector, now))
        .sort(byAge),
    );
  }

  async hold(ids: string[]): Promise<string[]> {
    return this.transition(ids, ['queued', 'deferred'], 'held', false);
  }

  async release(ids: string[]): Promise<string[]> {
    return this.transition(ids, ['held'], 'queued', true);
  }

  async retryNow(ids: string[]): Promise<string[]> {
    return this.transition(ids, ['deferred', 'held', 'queued'], 'queued', true);
  }

  async remove(ids: string[]): Promise<string[]> {
    return this.run('remove', (db) =>
      db.transaction(() =>
        ids.filter((id) => {
          const row = this.sql.get.get(id) as JobRow | undefined;
          if (!row || row.state === 'active') return false;
          this.sql.delete.run(id);
          this.sql.dropOrphan.run(row.message_id, row.message_id);
          return true;
        }),
      ).immediate(),
    );
  }

  private transition(ids: string[], from: string[], to: string, due: boolean): Promise<string[]> {
    const now = Date.now();
    return Promise.resolve(
      this.run('update', (db) =>
        db.transaction(() =>
          ids.filter((id) => this.sql.setState.run({ id, to, due: due ? 1 : 0, now, from: JSON.stringify(from) }).changes > 0),
        ).immediate(),
      ),
    );
  }

  private requireLease(lease: Lease): void {
    if (!this.sql.leased.get(lease.job.id, lease.token)) throw leaseLost(lease);
  }

  /**
   * A write that shares the next commit with its neighbours; resolves once that commit is done
   * (on disk when `synced`).
   */
  private async grouped<T>(operation: string, step: () => T, synced = true): Promise<T> {
    if (!this.db) throw new QueueError(`${operation}: the queue is not open`);
    const committed = (synced ? this.commits : this.unsyncedCommits).submit(step);
    this.inflight.add(committed);
    try {
      return (await committed) as T;
    } catch (err) {
      throw asQueueError(operation, err);
    } finally {
      this.inflight.delete(committed);
    }
  }

  /** One IMMEDIATE transaction, each step in a savepoint of its own (better-sqlite3 nests them). */
  private commitSteps(steps: Step[], synced: boolean): unknown[] {
    const db = this.db;
    if (!db) throw new QueueError('the queue is not open');
    const savepoint = db.transaction((step: Step) => step());
    const all = () =>
      steps.map((step) => {
        try {
          return savepoint(step);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      });
    return synced ? db.transaction(all).immediate() : unsynced(db, all);
  }

  private run<T>(operation: string, fn: (db: Database.Database) => T): T {
    if (!this.db) throw new QueueError(`${operation}: the queue is not open`);
    try {
      return fn(this.db);
    } catch (err) {
      throw asQueueError(operation, err);
    }
  }
}

/**
 * Runs `fn` in an IMMEDIATE transaction whose commit does not wait for the disk. For writes whose
 * loss in an OS crash is harmless (a lease, a postponement, a finished job's removal); the WAL
 * keeps them in order before any later synced commit.
 */
function unsynced<T>(db: Database.Database, fn: () => T): T {
  db.pragma('synchronous = NORMAL');
  try {
    return db.transaction(fn).immediate();
  } finally {
    db.pragma('synchronous = FULL');
  }
}

/** The candidate that waited longest (by next attempt, then age). */
function firstDue(rows: (JobRow | undefined)[]): JobRow | undefined {
  let best: JobRow | undefined;
  for (const row of rows) {
    if (row && (!best || row.next_attempt_at < best.next_attempt_at || (row.next_attempt_at === best.next_attempt_at && row.created_at < best.created_at))) best = row;
  }
  return best;
}

function toJob(row: JobRow): QueueJob {
  return {
    id: row.id,
    messageId: row.message_id,
    domain: row.domain,
    sender: row.sender,
    recipients: JSON.parse(row.recipients) as QueueJob['recipients'],
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    delayWarned: row.delay_warned === 1,
    size: row.size,
    local: row.local === 1,
    ...(row.dsn ? { dsn: JSON.parse(row.dsn) as QueueJob['dsn'] } : {}),
    ...(row.sent ? { sent: JSON.parse(row.sent) as SentRecord } : {}),
  };
}

function leaseLost(lease: Lease): QueueError {
  return new QueueError(`job ${lease.job.id}: lease lost (taken over or removed)`, { code: 'HERMOD_QUEUE_LEASE' });
}

function asQueueError(operation: string, err: unknown): HermodError {
  if (err instanceof HermodError) return err;
  return new QueueError(`queue ${operation} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
