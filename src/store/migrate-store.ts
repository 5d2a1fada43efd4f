import { join } from 'node:path';
import type { HermodConfig } from '../config/schema.js';
import { HermodError, StoreError } from '../errors.js';
import { applyMigrations, MIGRATIONS } from './sqlite/migrations.js';
import { openDatabase } from './sqlite/open-database.js';

/** What `hermod migrate` did to the configured message store. */
export interface MigrationSummary {
  driver: HermodConfig['store']['driver'];
  /** The SQLite file, or the Cassandra keyspace and contact points. */
  target: string;
  /** Set when this run created the Cassandra keyspace: its replication. */
  createdKeyspace?: Record<string, string>;
  applied: { version: number; name: string }[];
  /** Schema version after the run. */
  version: number;
  /** Things the operator should know (a keyspace whose replication differs from the config). */
  warnings: string[];
}

/**
 * Applies the pending schema migrations of the configured message store: the SQLite file's
 * (which opening the store would also do) or the Cassandra keyspace's (created when missing).
 * Idempotent: a store that is up to date is left as it is.
 */
export async function migrateMessageStore(config: HermodConfig): Promise<MigrationSummary> {
  return config.store.driver === 'cassandra' ? migrateCassandra(config) : migrateSqlite(config);
}

function migrateSqlite(config: HermodConfig): MigrationSummary {
  const file = join(config.dataDir, config.store.sqlite.file);
  try {
    const db = openDatabase(file, config.store.sqlite.busyTimeoutMs);
    try {
      const before = new Set(recordedVersions(db));
      applyMigrations(db);
      const after = recordedVersions(db);
      return {
        driver: 'sqlite',
        target: file,
        applied: MIGRATIONS.filter((m) => !before.has(m.version)).map(({ version, name }) => ({ version, name })),
        version: Math.max(0, ...after),
        warnings: [],
      };
    } finally {
      db.close();
    }
  } catch (err) {
    if (err instanceof HermodError) throw err;
    throw new StoreError(`migrate ${file} failed: ${(err as Error).message}`, { cause: err });
  }
}

function recordedVersions(db: ReturnType<typeof openDatabase>): number[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!exists) return [];
  return (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version);
}

async function migrateCassandra(config: HermodConfig): Promise<MigrationSummary> {
  // Loaded only when chosen, like the store itself.
  const { CassandraSession } = await import('./cassandra/cassandra-session.js');
  const { applyCassandraMigrations } = await import('./cassandra/migrations.js');
  const { asStoreError } = await import('./cassandra/cassandra-message-store.js');
  const c = config.store.cassandra;
  const target = `keyspace ${c.keyspace} on ${c.contactPoints.join(', ')}`;
  let session: Awaited<ReturnType<typeof CassandraSession.connect>> | undefined;
  try {
    session = await CassandraSession.connect({ ...c, contactPoints: [...c.contactPoints] });
    const report = await applyCassandraMigrations(session, c.replication);
    return {
      driver: 'cassandra',
      target,
      createdKeyspace: report.createdKeyspace ? report.replication : undefined,
      applied: report.applied,
      version: report.version,
      warnings: report.replicationWarning ? [report.replicationWarning] : [],
    };
  } catch (err) {
    throw asStoreError(`migrate ${target}`, err);
  } finally {
    await session?.shutdown();
  }
}
