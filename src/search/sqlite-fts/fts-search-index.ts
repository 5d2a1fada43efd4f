import Database from 'better-sqlite3';
import { switchToWal } from '../../store/sqlite/wal-mode.js';
import { WalSync } from '../../store/sqlite/wal-sync.js';
import { SearchIndexError } from '../search-error.js';
import type { IndexedEntry, SearchDocument, SearchHit, SearchIndex, SearchQuery } from '../search-index.js';
import { buildFilter, joinList } from './fts-query.js';
import { SCHEMA_SQL, SEP } from './schema.js';

/**
 * Opens the index file with its durability settings and schema.
 *
 * synchronous=FULL, as in the store: the indexer acknowledges an outbox item (and the store
 * forgets it) as soon as the index has committed the document. With NORMAL, a WAL commit can be
 * lost in a power cut after that acknowledgement, and the entry would stay unsearchable until an
 * operator ran `hermod index verify`. The indexer commits a whole batch at once, so FULL costs one
 * fsync per batch, not per message; upsert and remove take that fsync off the event loop (WalSync)
 * and resolve only after it.
 */
export function openIndexDatabase(file: string): Database.Database {
  const db = new Database(file);
  // The busy timeout first: another node opening the same file may hold the lock WAL set-up needs.
  db.pragma('busy_timeout = 5000');
  switchToWal(db, 5000);
  db.pragma('synchronous = FULL');
  db.exec(SCHEMA_SQL);
  return db;
}

/** Options for {@link FtsSearchIndex}. */
export interface FtsSearchIndexOptions {
  /** SQLite file for the index; `':memory:'` for a throw-away index (tests). */
  file: string;
}

/** One removal request, as {@link SearchIndex.remove} takes it. */
type Removal = { entryId: string; mailboxId: string; version: number };

interface DocRow {
  id: number;
  mailbox_id: string;
  version: number;
}

/**
 * The embedded search index: SQLite FTS5 for text, a plain table for filters and ordering.
 * See schema.ts for the layout and why it looks that way.
 */
export class FtsSearchIndex implements SearchIndex {
  private readonly file: string;
  private db: Database.Database | null = null;
  private wal: WalSync | null = null;

  constructor(options: FtsSearchIndexOptions) {
    this.file = options.file;
  }

  async init(): Promise<void> {
    if (this.db) return;
    try {
      this.db = openIndexDatabase(this.file);
      this.wal = new WalSync(this.db, this.file);
    } catch (err) {
      throw new SearchIndexError(`search index: cannot open ${this.file}: ${message(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    const wal = this.wal;
    this.db = null;
    this.wal = null;
    await wal?.close();
    db?.close();
  }

  /**
   * Resolves once the batch is durable (so the indexer may acknowledge it): committed without a
   * blocking fsync, then the WAL is synced off the event loop (WalSync), so indexing does not
   * stall the sessions delivering mail meanwhile.
   */
  async upsert(docs: SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    this.run('upsert', (db) => {
      const apply = db.transaction((batch: SearchDocument[]) => {
        for (const doc of batch) this.upsertOne(db, doc);
      });
      this.wal!.unsynced(() => apply(docs));
    });
    await this.synced('upsert');
  }

  /** Resolves once the removals are durable, as {@link upsert}. */
  async remove(entries: Removal[]): Promise<void> {
    if (entries.length === 0) return;
    this.run('remove', (db) => {
      const apply = db.transaction((batch: Removal[]) => {
        for (const entry of batch) this.removeOne(db, entry);
      });
      this.wal!.unsynced(() => apply(entries));
    });
    await this.synced('remove');
  }

  private async synced(operation: string): Promise<void> {
    try {
      await this.wal?.durable();
    } catch (err) {
      throw new SearchIndexError(`search index: ${operation}: ${message(err)}`, { cause: err });
    }
  }

  async search(mailboxId: string, query: SearchQuery, limit: number): Promise<SearchHit[]> {
    const max = Math.floor(limit);
    if (!(max > 0)) return [];
    const filter = buildFilter(mailboxId, query);
    const rows = this.run('search', (db) =>
      db
        .prepare(
          `SELECT d.entry_id, d.date FROM docs d WHERE ${filter.where}
           ORDER BY d.date DESC, d.entry_id DESC LIMIT ?`,
        )
        .all(...filter.params, max),
    ) as { entry_id: string; date: number }[];
    return rows.map((row) => ({ entryId: row.entry_id, date: new Date(row.date) }));
  }

  async versions(mailboxId: string): Promise<Map<string, number>> {
    const rows = this.run('versions', (db) =>
      statements(db).versions.all(mailboxId),
    ) as { entry_id: string; version: number }[];
    return new Map(rows.map((row) => [row.entry_id, row.version]));
  }

  async inventory(mailboxId: string): Promise<Map<string, IndexedEntry>> {
    const rows = this.run('inventory', (db) =>
      statements(db).inventory.all(mailboxId),
    ) as { entry_id: string; version: number; folder: string; tags: string }[];
    return new Map(
      rows.map((row) => [
        row.entry_id,
        { version: row.version, folder: row.folder, tags: row.tags.split(SEP).filter((tag) => tag !== '') },
      ]),
    );
  }

  async mailboxIds(): Promise<string[]> {
    const rows = this.run('mailboxIds', (db) => statements(db).mailboxIds.all()) as { mailbox_id: string }[];
    return rows.map((row) => row.mailbox_id);
  }

  /** Runs `fn` on the open database, turning any SQLite failure into a SearchIndexError. */
  private run<T>(operation: string, fn: (db: Database.Database) => T): T {
    if (!this.db) throw new SearchIndexError(`search index: ${operation} on a closed index (${this.file})`);
    try {
      return fn(this.db);
    } catch (err) {
      throw new SearchIndexError(`search index: ${operation} failed: ${message(err)}`, { cause: err });
    }
  }

  private upsertOne(db: Database.Database, doc: SearchDocument): void {
    const st = statements(db);
    const date = doc.date.getTime();
    if (!Number.isFinite(date)) throw new Error(`document ${doc.entryId} has an invalid date`);
    const current = st.getDoc.get(doc.entryId) as DocRow | undefined;
    const tomb = st.getTomb.get(doc.entryId) as { version: number } | undefined;
    const indexed = Math.max(current?.version ?? -Infinity, tomb?.version ?? -Infinity);
    // External versioning: equal counts as stale, so replaying an outbox item is a no-op.
    if (doc.version <= indexed) return;

    const fields = {
      entry_id: doc.entryId,
      mailbox_id: doc.mailboxId,
      folder: doc.folder.toLowerCase(),
      from_addr: doc.from.toLowerCase(),
      to_addrs: joinList([...doc.to, ...doc.cc]),
      tags: joinList(doc.tags),
      thread_id: doc.threadId,
      has_attachment: doc.hasAttachment ? 1 : 0,
      date,
      size: doc.size,
      version: doc.version,
    };
    let id: number;
    if (current) {
      id = current.id;
      st.updateDoc.run({ ...fields, id });
      st.deleteText.run(id);
    } else {
      id = Number(st.insertDoc.run(fields).lastInsertRowid);
    }
    st.insertText.run(id, doc.subject, doc.body, doc.attachmentNames.join('\n'));
    if (tomb) st.deleteTomb.run(doc.entryId);
  }

  private removeOne(db: Database.Database, entry: Removal): void {
    const st = statements(db);
    const current = st.getDoc.get(entry.entryId) as DocRow | undefined;
    if (current) {
      // A newer upsert already landed, or the caller names the wrong mailbox: leave it.
      if (entry.version < current.version || current.mailbox_id !== entry.mailboxId) return;
      st.deleteText.run(current.id);
      st.deleteDoc.run(current.id);
    }
    st.putTomb.run(entry.entryId, entry.mailboxId, entry.version);
  }
}

/** Prepared statements, made once per connection (preparing is the costly part of a write). */
const prepared = new WeakMap<Database.Database, ReturnType<typeof prepareStatements>>();

function statements(db: Database.Database): ReturnType<typeof prepareStatements> {
  let st = prepared.get(db);
  if (!st) {
    st = prepareStatements(db);
    prepared.set(db, st);
  }
  return st;
}

function prepareStatements(db: Database.Database) {
  return {
    getDoc: db.prepare('SELECT id, mailbox_id, version FROM docs WHERE entry_id = ?'),
    getTomb: db.prepare('SELECT version FROM tombstones WHERE entry_id = ?'),
    insertDoc: db.prepare(
      `INSERT INTO docs (entry_id, mailbox_id, folder, from_addr, to_addrs, tags, thread_id,
         has_attachment, date, size, version)
       VALUES (@entry_id, @mailbox_id, @folder, @from_addr, @to_addrs, @tags, @thread_id,
         @has_attachment, @date, @size, @version)`,
    ),
    updateDoc: db.prepare(
      `UPDATE docs SET mailbox_id = @mailbox_id, folder = @folder, from_addr = @from_addr,
         to_addrs = @to_addrs, tags = @tags, thread_id = @thread_id, has_attachment = @has_attachment,
         date = @date, size = @size, version = @version
       WHERE id = @id`,
    ),
    deleteDoc: db.prepare('DELETE FROM docs WHERE id = ?'),
    insertText: db.prepare('INSERT INTO docs_fts (rowid, subject, body, attachments) VALUES (?, ?, ?, ?)'),
    deleteText: db.prepare('DELETE FROM docs_fts WHERE rowid = ?'),
    deleteTomb: db.prepare('DELETE FROM tombstones WHERE entry_id = ?'),
    // Keep the highest version seen, so an older upsert arriving late stays out.
    putTomb: db.prepare(
      `INSERT INTO tombstones (entry_id, mailbox_id, version) VALUES (?, ?, ?)
       ON CONFLICT (entry_id) DO UPDATE SET version = max(version, excluded.version)`,
    ),
    versions: db.prepare('SELECT entry_id, version FROM docs WHERE mailbox_id = ?'),
    inventory: db.prepare('SELECT entry_id, version, folder, tags FROM docs WHERE mailbox_id = ?'),
    mailboxIds: db.prepare('SELECT DISTINCT mailbox_id FROM docs ORDER BY mailbox_id'),
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
