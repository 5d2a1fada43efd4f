import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { switchToWal } from './wal-mode.js';

/**
 * Opens a SQLite connection set up the way the message store needs it: parent directories
 * created, WAL so readers never block the writer, synchronous=FULL so a commit is on disk before
 * the 250 goes out, foreign keys enforced (SQLite leaves them off by default), and a busy timeout
 * so a brief lock held by another connection waits instead of failing at once.
 */
export function openDatabase(file: string, busyTimeoutMs: number): Database.Database {
  if (file !== ':memory:' && !file.startsWith('file:')) {
    mkdirSync(dirname(file), { recursive: true });
  }
  const db = new Database(file);
  try {
    // First, before any statement that takes a lock: switching a new file to WAL needs an
    // exclusive lock, and a second node opening the file at the same moment must wait for it,
    // not fail with SQLITE_BUSY.
    const timeoutMs = Math.max(0, Math.floor(busyTimeoutMs));
    db.pragma(`busy_timeout = ${timeoutMs}`);
    switchToWal(db, timeoutMs);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

