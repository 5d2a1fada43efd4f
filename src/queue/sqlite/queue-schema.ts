import type { Migration } from '../../store/sqlite/migrations.js';

/**
 * The embedded queue's schema, in its own file (queue.sqlite under dataDir) so it never collides
 * with the message store's migrations. The body lives once in `spool`; jobs refer to it.
 */
export const QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'outbound queue',
    sql: `
      CREATE TABLE spool (
        message_id  TEXT PRIMARY KEY,
        raw         BLOB NOT NULL,
        size        INTEGER NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE jobs (
        id               TEXT PRIMARY KEY,
        message_id       TEXT NOT NULL REFERENCES spool(message_id),
        domain           TEXT NOT NULL,
        sender           TEXT NOT NULL,
        recipients       TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('queued', 'deferred', 'active', 'held')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL,
        last_attempt_at  INTEGER,
        last_error       TEXT,
        delay_warned     INTEGER NOT NULL DEFAULT 0,
        size             INTEGER NOT NULL,
        local            INTEGER NOT NULL DEFAULT 0,
        lease_token      TEXT,
        lease_until      INTEGER
      ) STRICT;
      -- The worker's question: what is due, longest waiting first.
      CREATE INDEX jobs_due ON jobs(state, next_attempt_at);
      CREATE INDEX jobs_by_message ON jobs(message_id);
    `,
  },
  {
    version: 2,
    name: 'outbound queue: RFC 3461 envelope parameters',
    sql: `ALTER TABLE jobs ADD COLUMN dsn TEXT;`,
  },
  {
    version: 3,
    name: 'outbound queue: due jobs read in claim order',
    // With created_at in the index, "the longest waiting job of a state" is its first index entry.
    sql: `
      CREATE INDEX jobs_due_order ON jobs(state, next_attempt_at, created_at);
      DROP INDEX jobs_due;
    `,
  },
  {
    version: 4,
    name: 'outbound queue: replies recorded before settling',
    sql: `ALTER TABLE jobs ADD COLUMN sent TEXT;`,
  },
];

/** A jobs row as SQLite returns it. */
export interface JobRow {
  id: string;
  message_id: string;
  domain: string;
  sender: string;
  recipients: string;
  state: 'queued' | 'deferred' | 'active' | 'held';
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_error: string | null;
  delay_warned: number;
  size: number;
  local: number;
  lease_token: string | null;
  lease_until: number | null;
  /** JSON of the envelope's RET/ENVID, or null. */
  dsn: string | null;
  /** JSON of the SentRecord of an attempt not yet settled, or null. */
  sent: string | null;
}
