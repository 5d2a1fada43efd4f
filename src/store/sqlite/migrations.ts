import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';

/** One schema step. Versions are consecutive from 1; a released migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The SQLite schema, as an ordered list of migrations. Dates are epoch milliseconds (INTEGER);
 * list-shaped fields are JSON text. Tables are STRICT so a type slip fails loudly instead of
 * storing a string where a number belongs.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial storage model',
    sql: `
      CREATE TABLE domains (
        name        TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE mailboxes (
        id             TEXT PRIMARY KEY,
        address        TEXT NOT NULL UNIQUE,
        -- Kept apart from the address so domain removal and listing by domain use an index.
        domain         TEXT NOT NULL REFERENCES domains(name),
        quota_bytes    INTEGER NOT NULL DEFAULT 0,
        password_hash  TEXT,
        created_at     INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX mailboxes_by_domain ON mailboxes(domain, address);

      CREATE TABLE mailbox_aliases (
        alias       TEXT PRIMARY KEY,
        mailbox_id  TEXT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX mailbox_aliases_by_mailbox ON mailbox_aliases(mailbox_id);

      -- One row per distinct byte sequence, shared by every entry that holds it.
      CREATE TABLE messages (
        sha256  TEXT PRIMARY KEY,
        raw     BLOB NOT NULL,
        size    INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE mailbox_entries (
        id               TEXT PRIMARY KEY,
        mailbox_id       TEXT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        folder           TEXT NOT NULL,
        sha256           TEXT NOT NULL REFERENCES messages(sha256),
        size             INTEGER NOT NULL,
        flags            TEXT NOT NULL,
        tags             TEXT NOT NULL,
        importance       REAL NOT NULL,
        spam_score       REAL NOT NULL,
        thread_id        TEXT NOT NULL,
        subject          TEXT NOT NULL,
        from_addr        TEXT NOT NULL,
        to_addrs         TEXT NOT NULL,
        cc_addrs         TEXT NOT NULL,
        date             INTEGER,
        message_id       TEXT,
        attachments      TEXT NOT NULL,
        prepend_headers  TEXT NOT NULL,
        envelope         TEXT NOT NULL,
        received_at      INTEGER NOT NULL,
        -- The idempotency key: an MTA retry of the same bytes must not make a second entry.
        UNIQUE (mailbox_id, sha256)
      ) STRICT;
      CREATE INDEX mailbox_entries_by_folder ON mailbox_entries(mailbox_id, folder, id DESC);
      CREATE INDEX mailbox_entries_by_mailbox ON mailbox_entries(mailbox_id, id DESC);
      -- Lets mailbox removal find blobs no entry refers to any more.
      CREATE INDEX mailbox_entries_by_sha256 ON mailbox_entries(sha256);

      CREATE TABLE ledger (
        entry_id     TEXT NOT NULL REFERENCES mailbox_entries(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        plugin       TEXT NOT NULL,
        stage        TEXT NOT NULL,
        verdict      TEXT NOT NULL,
        score        REAL NOT NULL,
        reason       TEXT NOT NULL,
        duration_ms  REAL NOT NULL,
        details      TEXT,
        PRIMARY KEY (entry_id, seq)
      ) STRICT, WITHOUT ROWID;

      -- AUTOINCREMENT so a seq is never reused after rows are acknowledged and deleted.
      -- No foreign key on entry_id: delete items outlive the entry they describe.
      CREATE TABLE outbox (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id         TEXT NOT NULL,
        mailbox_id       TEXT NOT NULL,
        op               TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
        version          INTEGER NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbox_due ON outbox(next_attempt_at, seq);
    `,
  },
  {
    version: 2,
    name: 'bayes token statistics',
    sql: `
      -- Messages containing the token, per scope ('global' or a mailbox id) and label.
      -- WITHOUT ROWID: the key is the lookup, and rows are small.
      CREATE TABLE bayes_tokens (
        scope  TEXT NOT NULL,
        token  TEXT NOT NULL,
        spam   INTEGER NOT NULL DEFAULT 0 CHECK (spam >= 0),
        ham    INTEGER NOT NULL DEFAULT 0 CHECK (ham >= 0),
        PRIMARY KEY (scope, token)
      ) STRICT, WITHOUT ROWID;

      -- Messages learned per scope and label: the N_spam and N_ham of the token probabilities.
      CREATE TABLE bayes_totals (
        scope  TEXT PRIMARY KEY,
        spam   INTEGER NOT NULL DEFAULT 0 CHECK (spam >= 0),
        ham    INTEGER NOT NULL DEFAULT 0 CHECK (ham >= 0)
      ) STRICT;

      -- The label each learned message holds per scope, so a message is counted once and a
      -- correction (a move out of Junk) unlearns the old label before learning the new one.
      CREATE TABLE bayes_seen (
        scope       TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        label       TEXT NOT NULL CHECK (label IN ('spam', 'ham')),
        learned_at  INTEGER NOT NULL,
        PRIMARY KEY (scope, sha256)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'large raw messages as files',
    sql: `
      -- 1: the bytes are the content-addressed file <database>.blobs/<sha256[0:2]>/<sha256>
      -- (raw is then empty); 0: they are in raw.
      ALTER TABLE messages ADD COLUMN in_file INTEGER NOT NULL DEFAULT 0 CHECK (in_file IN (0, 1));
    `,
  },
];

/**
 * Brings the database up to the newest migration. Each migration runs in its own transaction
 * together with its `schema_migrations` row, so a crash never leaves a half-applied step.
 * Refuses a database written by a newer Hermod, whose schema this code does not know.
 *
 * Several nodes may open one file at the same moment. Each step is an IMMEDIATE transaction that
 * reads the version after taking the write lock: the node that waited (busy_timeout) then sees
 * the step already applied and skips it, instead of creating the same table a second time.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const newest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      name        TEXT NOT NULL,
      applied_at  INTEGER NOT NULL
    ) STRICT`);
    const current = schemaVersion(db);
    if (current > newest) {
      throw new StoreError(
        `database schema is at version ${current}, newer than this Hermod knows (${newest}); upgrade Hermod`,
      );
    }
  }).immediate();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }).immediate();
  }
}

function schemaVersion(db: Database.Database): number {
  return (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
}
