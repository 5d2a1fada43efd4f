import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { HermodError, QueueError } from '../../errors.js';
import { applyMigrations } from '../../store/sqlite/migrations.js';
import { openDatabase } from '../../store/sqlite/open-database.js';
import { byAge, matchesSelector, type OutboundQueue } from '../outbound-queue.js';
import { newRecipients, type Deferral, type JobSelector, type Lease, type NewOutboundMessage, type QueueJob } from '../types.js';
import { QUEUE_MIGRATIONS, type JobRow } from './queue-schema.js';

/** Options for {@link SqliteQueue}. */
export interface SqliteQueueOptions {
  /** queue.sqlite; `':memory:'` for a private in-memory queue. */
  file: string;
  /** @defaultValue 5000 */
  busyTimeoutMs?: number;
}

/**
 * The embedded outbound queue: one SQLite file (WAL, synchronous=FULL) holding the spool and
 * the jobs, so a message accepted with 250 survives a crash. Claims are a transaction, so a CLI
 * process and the server can share the file.
 */
export class SqliteQueue implements OutboundQueue {
  readonly driver = 'sqlite' as const;
  private db: Database.Database | null = null;
  private sql: Record<string, Database.Statement> = {};

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
      due: p(`SELECT * FROM jobs WHERE (state IN ('queued', 'deferred') AND next_attempt_at <= @now)
                 OR (state = 'active' AND lease_until <= @now) ORDER BY next_attempt_at, created_at LIMIT 1`),
      lease: p(`UPDATE jobs SET state = 'active', lease_token = ?, lease_until = ? WHERE id = ?`),
      renew: p(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'active' AND lease_token = ?`),
      get: p('SELECT * FROM jobs WHERE id = ?'),
      all: p('SELECT * FROM jobs'),
      leased: p(`SELECT * FROM jobs WHERE id = ? AND state = 'active' AND lease_token = ?`),
      delete: p('DELETE FROM jobs WHERE id = ?'),
      dropOrphan: p('DELETE FROM spool WHERE message_id = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE message_id = ?)'),
      defer: p(`UPDATE jobs SET state = 'deferred', recipients = ?, attempts = attempts + 1, next_attempt_at = ?,
                 last_attempt_at = ?, last_error = ?, delay_warned = ?, lease_token = NULL, lease_until = NULL WHERE id = ?`),
      postpone: p(`UPDATE jobs SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, next_attempt_at = ?,
                 lease_token = NULL, lease_until = NULL WHERE id = ?`),
      setState: p(`UPDATE jobs SET state = @to, next_attempt_at = CASE WHEN @due THEN @now ELSE next_attempt_at END
                 WHERE id = @id AND state IN (SELECT value FROM json_each(@from))`),
    };
  }

  async enqueue(message: NewOutboundMessage): Promise<QueueJob[]> {
    return this.run('enqueue', (db) => db.transaction(() => this.insert(message)).immediate());
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
    return this.run('claim', (db) =>
      db.transaction(() => {
        const row = this.sql.due.get({ now }) as JobRow | undefined;
        if (!row) return null;
        const token = randomUUID();
        this.sql.lease.run(token, now + leaseMs, row.id);
        return { job: { ...toJob(row), state: 'active' as const }, token };
      }).immediate(),
    );
  }

  async renew(lease: Lease, leaseMs: number): Promise<void> {
    this.run('renew', () => {
      if (this.sql.renew.run(Date.now() + leaseMs, lease.job.id, lease.token).changes === 0) throw leaseLost(lease);
    });
  }

  // The settlement and its notices share one IMMEDIATE transaction: either the job is settled
  // and every bounce is queued, or nothing happened and the lease lapses into a new attempt.
  async complete(lease: Lease, notices: NewOutboundMessage[] = []): Promise<void> {
    this.run('complete', (db) =>
      db.transaction(() => {
        this.requireLease(lease);
        this.sql.delete.run(lease.job.id);
        this.sql.dropOrphan.run(lease.job.messageId, lease.job.messageId);
        for (const notice of notices) this.insert(notice);
      }).immediate(),
    );
  }

  async defer(lease: Lease, d: Deferral, notices: NewOutboundMessage[] = []): Promise<void> {
    this.run('defer', (db) =>
      db.transaction(() => {
        this.requireLease(lease);
        const recipients = JSON.stringify(d.recipients);
        this.sql.defer.run(recipients, d.nextAttemptAt, Date.now(), d.lastError, d.delayWarned ? 1 : 0, lease.job.id);
        for (const notice of notices) this.insert(notice);
      }).immediate(),
    );
  }

  async postpone(lease: Lease, until: number): Promise<void> {
    this.run('postpone', (db) =>
      db.transaction(() => {
        this.requireLease(lease);
        this.sql.postpone.run(until, lease.job.id);
      }).immediate(),
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

  private run<T>(operation: string, fn: (db: Database.Database) => T): T {
    if (!this.db) throw new QueueError(`${operation}: the queue is not open`);
    try {
      return fn(this.db);
    } catch (err) {
      throw asQueueError(operation, err);
    }
  }
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
  };
}

function leaseLost(lease: Lease): QueueError {
  return new QueueError(`job ${lease.job.id}: lease lost (taken over or removed)`, { code: 'HERMOD_QUEUE_LEASE' });
}

function asQueueError(operation: string, err: unknown): HermodError {
  if (err instanceof HermodError) return err;
  return new QueueError(`queue ${operation} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
