import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { switchToWal } from '../../src/plugin-api.js';
import type { GreylistStore } from './store.js';
import type { TripletRecord } from './triplet.js';

const PURGE_EVERY_MS = 10 * 60 * 1000;

/**
 * The embedded store: one small SQLite table. Greylist state is cheap to lose (a sender waits one
 * more delay), so it commits with synchronous=NORMAL, not FULL like the message store.
 */
export class SqliteGreylistStore implements GreylistStore {
  private readonly db: Database.Database;
  private readonly select: Database.Statement<[string], { first_seen: number; passed_until: number; expires_at: number }>;
  private readonly upsert: Database.Statement<[string, number, number, number]>;
  private readonly purge: Database.Statement<[number]>;
  private lastPurge = 0;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // The busy timeout first: another node opening the same file may hold the lock WAL set-up needs.
    this.db.pragma('busy_timeout = 5000');
    switchToWal(this.db, 5000);
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS greylist (
      triplet TEXT PRIMARY KEY,
      first_seen INTEGER NOT NULL,
      passed_until INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.select = this.db.prepare('SELECT first_seen, passed_until, expires_at FROM greylist WHERE triplet = ?');
    this.upsert = this.db.prepare(
      `INSERT INTO greylist (triplet, first_seen, passed_until, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (triplet) DO UPDATE SET first_seen = excluded.first_seen,
         passed_until = excluded.passed_until, expires_at = excluded.expires_at`,
    );
    this.purge = this.db.prepare('DELETE FROM greylist WHERE expires_at < ?');
  }

  async get(key: string): Promise<TripletRecord | undefined> {
    const row = this.select.get(key);
    if (!row || row.expires_at < Date.now()) return undefined;
    return { firstSeen: row.first_seen, passedUntil: row.passed_until };
  }

  async put(key: string, record: TripletRecord, expiresAt: number): Promise<void> {
    this.upsert.run(key, record.firstSeen, record.passedUntil, expiresAt);
    const now = Date.now();
    if (now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = now;
      this.purge.run(now);
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
