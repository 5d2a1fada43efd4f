import { randomBytes } from 'node:crypto';
import { CassandraMessageStore, type CassandraMessageStoreOptions } from '../../src/store/cassandra/cassandra-message-store.js';
import { CassandraSession } from '../../src/store/cassandra/cassandra-session.js';
import { applyCassandraMigrations } from '../../src/store/cassandra/migrations.js';

/** The Cassandra the tests use (test/global-setup.ts starts it and sets the variables). */
export function cassandraContactPoint(): string {
  return process.env.HERMOD_TEST_CASSANDRA ?? '127.0.0.1:9142';
}

export function cassandraDataCenter(): string {
  return process.env.HERMOD_TEST_CASSANDRA_DATACENTER ?? 'datacenter1';
}

/** A keyspace name no other test (or run) uses: `hermod_<label>_<hex>`. */
export function uniqueKeyspace(label = 'test'): string {
  return `hermod_${label}_${randomBytes(5).toString('hex')}`;
}

/** Store options for a test keyspace on the test node (single node: replication factor 1). */
export function testStoreOptions(
  keyspace: string,
  overrides: Partial<CassandraMessageStoreOptions> = {},
): CassandraMessageStoreOptions {
  return {
    contactPoints: [cassandraContactPoint()],
    localDataCenter: cassandraDataCenter(),
    keyspace,
    replication: { class: 'SimpleStrategy', replication_factor: 1 },
    consistency: 'LOCAL_QUORUM',
    serialConsistency: 'LOCAL_SERIAL',
    migrateOnStart: false,
    chunkBytes: 256 * 1024,
    requestTimeoutMs: 10_000,
    ...overrides,
  };
}

/**
 * The `store` section of a Hermod config on the test node's keyspace (replication factor 1), as
 * a harness-started Hermod takes it; `extra` adds keys of `store.cassandra`.
 */
export function cassandraStoreSection(keyspace: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    driver: 'cassandra',
    cassandra: {
      contactPoints: [cassandraContactPoint()],
      localDataCenter: cassandraDataCenter(),
      keyspace,
      replication: { class: 'SimpleStrategy', replication_factor: 1 },
      ...extra,
    },
  };
}

/** Opens a bare session on the test node (for looking at tables and for cleanup). */
export function testSession(keyspace: string): Promise<CassandraSession> {
  return CassandraSession.connect({
    contactPoints: [cassandraContactPoint()],
    localDataCenter: cassandraDataCenter(),
    keyspace,
    consistency: 'LOCAL_QUORUM',
    serialConsistency: 'LOCAL_SERIAL',
    requestTimeoutMs: 30_000,
  });
}

/** Tables the schema owns, with their partition key columns and whether they hold counters. */
interface TableShape {
  name: string;
  partitionKey: string[];
  counter: boolean;
}

/**
 * One keyspace for a test file, migrated once (creating ~20 tables takes seconds), and emptied
 * between tests so each test still starts from an empty store. Emptying deletes the partitions
 * in use (milliseconds) instead of TRUNCATE (a flush per table); counter tables are truncated,
 * because a deleted counter cannot be counted again.
 */
export class TestKeyspace {
  private session: CassandraSession | undefined;
  private shapes: TableShape[] = [];

  constructor(readonly keyspace = uniqueKeyspace()) {}

  /** Creates the keyspace and applies every migration. */
  async create(): Promise<void> {
    this.session = await testSession(this.keyspace);
    await applyCassandraMigrations(this.session, { class: 'SimpleStrategy', replication_factor: 1 });
    this.shapes = await tableShapes(this.session);
  }

  /** A fresh, initialised store on the (empty) keyspace; `cleanup` closes and empties it. */
  async freshStore(overrides: Partial<CassandraMessageStoreOptions> = {}) {
    if (!this.session) await this.create();
    const store = new CassandraMessageStore(testStoreOptions(this.keyspace, overrides));
    await store.init();
    return {
      store,
      cleanup: async (): Promise<void> => {
        await store.close();
        await this.empty();
      },
    };
  }

  /** Deletes every row of every Hermod table (the migration records stay). */
  async empty(): Promise<void> {
    const session = this.session!;
    await Promise.all(
      this.shapes.map(async (shape) => {
        const table = session.table(shape.name);
        if ((await session.execute(`SELECT * FROM ${table} LIMIT 1`)).rowLength === 0) return;
        if (shape.counter) {
          await session.ddl(`TRUNCATE ${table}`);
          return;
        }
        const keys = shape.partitionKey.join(', ');
        const where = shape.partitionKey.map((c) => `${c} = ?`).join(' AND ');
        const rows = await session.rows(`SELECT DISTINCT ${keys} FROM ${table}`);
        await Promise.all(rows.map((row) => session.execute(`DELETE FROM ${table} WHERE ${where}`, row.values())));
      }),
    );
    // Deletes carry this client's timestamps; the next store's writes must come strictly later.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Drops the keyspace. */
  async drop(): Promise<void> {
    if (!this.session) return;
    await this.session.ddl(`DROP KEYSPACE IF EXISTS ${this.keyspace}`);
    await this.session.shutdown();
    this.session = undefined;
  }

  /** The session on the keyspace, for looking at tables directly. */
  get raw(): CassandraSession {
    return this.session!;
  }
}

async function tableShapes(session: CassandraSession): Promise<TableShape[]> {
  const columns = await session.rows(
    'SELECT table_name, column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = ?',
    [session.keyspace],
  );
  const shapes = new Map<string, { keys: [number, string][]; counter: boolean }>();
  for (const row of columns) {
    const name = row.get('table_name') as string;
    if (name === 'schema_migrations' || name === 'schema_lock') continue;
    const shape = shapes.get(name) ?? { keys: [], counter: false };
    if (row.get('kind') === 'partition_key') shape.keys.push([row.get('position') as number, row.get('column_name') as string]);
    if (row.get('type') === 'counter') shape.counter = true;
    shapes.set(name, shape);
  }
  return [...shapes].map(([name, s]) => ({
    name,
    partitionKey: s.keys.sort((a, b) => a[0] - b[0]).map(([, column]) => column),
    counter: s.counter,
  }));
}
