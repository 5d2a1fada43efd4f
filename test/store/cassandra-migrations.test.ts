import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { CassandraMessageStore } from '../../src/store/cassandra/cassandra-message-store.js';
import type { CassandraSession } from '../../src/store/cassandra/cassandra-session.js';
import {
  applyCassandraMigrations,
  bootstrapTableId,
  checkCassandraSchema,
  schemaVersion,
  type CassandraMigrationReport,
} from '../../src/store/cassandra/migrations.js';
import { CASSANDRA_MIGRATIONS } from '../../src/store/cassandra/schema.js';
import { testSession, testStoreOptions, uniqueKeyspace } from '../helpers/cassandra.js';

/** Versioned migrations of the Cassandra keyspace: what `hermod migrate` (and start-up) apply. */
describe('Cassandra migrations', () => {
  const keyspace = uniqueKeyspace('migrate');
  const replication = { class: 'SimpleStrategy', replication_factor: 1 } as const;
  let session: CassandraSession;

  beforeAll(async () => {
    session = await testSession(keyspace);
  });
  afterAll(async () => {
    await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await session.shutdown();
  }, 60_000);

  const recorded = async () =>
    (await session.rows(`SELECT version, name FROM ${session.table('schema_migrations')}`))
      .map((row) => [row.get('version') as number, row.get('name') as string])
      .sort((a, b) => (a[0] as number) - (b[0] as number));

  it('creates the keyspace, applies versions in order, and applies each exactly once', async () => {
    const first = await applyCassandraMigrations(session, replication, CASSANDRA_MIGRATIONS.slice(0, 1));
    expect(first).toMatchObject({ keyspace, createdKeyspace: true, version: 1, applied: [{ version: 1 }] });
    expect(first.replication).toMatchObject({ replication_factor: '1' });
    expect(first.replicationWarning).toBeUndefined();

    // A Hermod that knows later versions refuses to start without migrating…
    const newest = CASSANDRA_MIGRATIONS[CASSANDRA_MIGRATIONS.length - 1].version;
    await expect(checkCassandraSchema(session)).rejects.toThrow(new RegExp(`version 1.*needs ${newest}.*hermod migrate`));
    const stale = new CassandraMessageStore(testStoreOptions(keyspace, { migrateOnStart: false }));
    await expect(stale.init()).rejects.toBeInstanceOf(StoreError);

    // …and migrating brings it up to date; running it again (twice at once) changes nothing.
    const second = await applyCassandraMigrations(session, replication);
    expect(second).toMatchObject({
      createdKeyspace: false,
      version: newest,
      applied: CASSANDRA_MIGRATIONS.slice(1).map((m) => ({ version: m.version, name: m.name })),
    });
    const again = await Promise.all([
      applyCassandraMigrations(session, replication),
      applyCassandraMigrations(session, replication),
    ]);
    expect(again.map((r) => r.applied)).toEqual([[], []]);
    expect(await recorded()).toEqual(CASSANDRA_MIGRATIONS.map((m) => [m.version, m.name]));
    await checkCassandraSchema(session);
  });

  it('warns, and changes nothing, when the configured replication differs from the keyspace', async () => {
    const report = await applyCassandraMigrations(session, { class: 'NetworkTopologyStrategy', datacenter1: 3 });
    expect(report.replicationWarning).toMatch(/SimpleStrategy.*NetworkTopologyStrategy.*ALTER KEYSPACE/);
    expect(report.replication).toMatchObject({ replication_factor: '1' });
  });

  it('refuses a keyspace written by a newer Hermod', async () => {
    const table = session.table('schema_migrations');
    await session.execute(`INSERT INTO ${table} (version, name, applied_at) VALUES (999, 'future', toTimestamp(now()))`);
    try {
      expect(await schemaVersion(session)).toBe(999);
      await expect(applyCassandraMigrations(session, replication)).rejects.toThrow(/version 999.*upgrade Hermod/);
      await expect(checkCassandraSchema(session)).rejects.toThrow(/version 999/);
    } finally {
      await session.execute(`DELETE FROM ${table} WHERE version = 999`);
    }
  });

  it('sets up a new keyspace once when three processes start on it at the same instant', async () => {
    const fresh = uniqueKeyspace('race');
    const script = fileURLToPath(new URL('./migrate-at.ts', import.meta.url));
    const startAt = Date.now() + 5000; // each process loads and connects first
    try {
      const reports = await Promise.all(
        [1, 2, 3].map(async () => {
          const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, fresh, String(startAt)], {
            timeout: 100_000,
          });
          return JSON.parse(stdout) as CassandraMigrationReport;
        }),
      );
      // One process applied every version, the others found them applied once they got the lock.
      const newest = CASSANDRA_MIGRATIONS[CASSANDRA_MIGRATIONS.length - 1].version;
      expect(reports.map((r) => r.version)).toEqual([newest, newest, newest]);
      expect(reports.flatMap((r) => r.applied.map((a) => a.version)).sort()).toEqual(CASSANDRA_MIGRATIONS.map((m) => m.version));
      const own = await testSession(fresh);
      try {
        const versions = await own.rows(`SELECT version FROM ${own.table('schema_migrations')}`);
        expect(versions).toHaveLength(CASSANDRA_MIGRATIONS.length);
        // The tables created before the lock is held have the same id whichever node made them.
        const tables = await own.rows('SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?', [fresh]);
        const ids = Object.fromEntries(tables.map((row) => [row.get('table_name') as string, String(row.get('id'))]));
        expect(ids.schema_migrations).toBe(bootstrapTableId(fresh, 'schema_migrations'));
        expect(ids.schema_lock).toBe(bootstrapTableId(fresh, 'schema_lock'));
      } finally {
        await own.shutdown();
      }
    } finally {
      await session.ddl(`DROP KEYSPACE IF EXISTS ${fresh}`);
    }
  }, 120_000);

  it('lets a store with migrateOnStart create and migrate a keyspace of its own', async () => {
    const own = uniqueKeyspace('start');
    const store = new CassandraMessageStore(testStoreOptions(own, { migrateOnStart: true }));
    try {
      await store.init();
      await store.addDomain('example.com');
      expect((await store.listDomains()).map((d) => d.name)).toEqual(['example.com']);
    } finally {
      await store.close();
      await session.ddl(`DROP KEYSPACE IF EXISTS ${own}`);
    }
  }, 60_000);
});
