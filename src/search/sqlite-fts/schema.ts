/**
 * Schema of the embedded search index.
 *
 * - `docs` holds the filterable fields, one row per indexed entry. Addresses, tags and folder are
 *   stored lower-cased (by JavaScript, which folds all of Unicode, unlike SQLite's ASCII-only
 *   `lower()`/`NOCASE`) so filters are a plain `instr()`/`=` on pre-folded text.
 * - `docs_fts` holds the text: its rowid is `docs.id`. It is contentless (`content=''`) because
 *   the text is only ever matched, never read back; the raw message stays in the store.
 *   `contentless_delete=1` lets us delete and replace rows without keeping the old text.
 * - `tombstones` remembers the version of removed entries, so a late, older upsert cannot bring
 *   a deleted entry back (external versioning, as Elasticsearch does it).
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS docs (
  id             INTEGER PRIMARY KEY,
  entry_id       TEXT    NOT NULL UNIQUE,
  mailbox_id     TEXT    NOT NULL,
  folder         TEXT    NOT NULL,
  from_addr      TEXT    NOT NULL,
  to_addrs       TEXT    NOT NULL,
  tags           TEXT    NOT NULL,
  thread_id      TEXT    NOT NULL,
  has_attachment INTEGER NOT NULL,
  date           INTEGER NOT NULL,
  size           INTEGER NOT NULL,
  version        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_mailbox_date ON docs (mailbox_id, date DESC, entry_id DESC);

CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
  subject, body, attachments,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE IF NOT EXISTS tombstones (
  entry_id   TEXT    PRIMARY KEY,
  mailbox_id TEXT    NOT NULL,
  version    INTEGER NOT NULL
);
`;

/** FTS5 columns free text is searched in (from:/to: are filtered on `docs`, not here). */
export const TEXT_COLUMNS = '{subject body attachments}';

/**
 * Separator for multi-valued columns (to/cc addresses, tags). A search value never contains a
 * newline (the query parser splits on whitespace), so a substring match cannot straddle two values,
 * and wrapping the list in separators turns "whole tag" into one `instr()`.
 */
export const SEP = '\n';
