import { createHash, randomUUID } from 'node:crypto';
import { StoreError } from '../../errors.js';
import type { CassandraSession } from './cassandra-session.js';
import type { CassandraReplication } from './config-schema.js';
import { CASSANDRA_MIGRATIONS, type CassandraMigration } from './schema.js';

/** What a migration run did. */
export interface CassandraMigrationReport {
  keyspace: string;
  /** True when the keyspace did not exist and was created with the configured replication. */
  createdKeyspace: boolean;
  /** The keyspace's replication as Cassandra has it (it may differ from the config: see below). */
  replication: Record<string, string>;
  /** Set when an existing keyspace's replication differs from the configured one. */
  replicationWarning?: string;
  /** Migrations applied by this run, in order. */
  applied: { version: number; name: string }[];
  /** Schema version after the run. */
  version: number;
}

/** Native protocol error code of an invalid query (e.g. an unknown keyspace or table). */
const INVALID_QUERY = 0x2200;
/** How long the schema lock is held at most (a crashed migrator's lock expires). */
const LOCK_TTL_SECONDS = 300;
/** How long to wait for another node's migration to finish. */
const LOCK_WAIT_MS = 120_000;

/**
 * Creates the keyspace when missing, then applies the migrations the keyspace has not had yet,
 * each statement in order, recording each version in `schema_migrations`. Nodes starting together
 * take turns through a lock row (a lightweight transaction with a TTL): concurrent schema changes
 * can leave a cluster in schema disagreement. Every statement is `IF NOT EXISTS`, so a run that
 * stopped half-way is completed by the next. Refuses a keyspace written by a newer Hermod.
 */
export async function applyCassandraMigrations(
  session: CassandraSession,
  replication: CassandraReplication,
  migrations: readonly CassandraMigration[] = CASSANDRA_MIGRATIONS,
): Promise<CassandraMigrationReport> {
  const createdKeyspace = await ensureKeyspace(session, replication);
  await session.ddl(`CREATE TABLE IF NOT EXISTS ${session.table('schema_migrations')} (
    version int PRIMARY KEY, name text, applied_at timestamp) WITH ID = ${bootstrapTableId(session.keyspace, 'schema_migrations')}`);
  await session.ddl(`CREATE TABLE IF NOT EXISTS ${session.table('schema_lock')} (
    id int PRIMARY KEY, owner text, taken_at timestamp) WITH ID = ${bootstrapTableId(session.keyspace, 'schema_lock')}`);
  const owner = randomUUID();
  await takeLock(session, owner);
  try {
    const current = await schemaVersion(session);
    checkNotNewer(session.keyspace, current, migrations);
    const applied: CassandraMigrationReport['applied'] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements) await session.ddl(statement.replaceAll('KS.', `${session.keyspace}.`));
      await session.execute(
        `INSERT INTO ${session.table('schema_migrations')} (version, name, applied_at) VALUES (?, ?, ?)`,
        [migration.version, migration.name, new Date()],
        { idempotent: true },
      );
      applied.push({ version: migration.version, name: migration.name });
    }
    const actual = await keyspaceReplication(session);
    return {
      keyspace: session.keyspace,
      createdKeyspace,
      replication: actual ?? {},
      replicationWarning: actual ? replicationWarning(session.keyspace, actual, replication) : undefined,
      applied,
      version: await schemaVersion(session),
    };
  } finally {
    // A lock that cannot be released (the cluster went away) expires with its TTL; the error that
    // matters is the one that got us here.
    await releaseLock(session, owner).catch(() => undefined);
  }
}

/**
 * For `migrateOnStart: false`: refuses to run against a keyspace whose schema is older (run
 * `hermod migrate`) or newer (upgrade Hermod) than this code.
 */
export async function checkCassandraSchema(
  session: CassandraSession,
  migrations: readonly CassandraMigration[] = CASSANDRA_MIGRATIONS,
): Promise<void> {
  let current: number;
  try {
    current = await schemaVersion(session);
  } catch (err) {
    // 0x2200 "Invalid": the keyspace or table does not exist. Anything else (unreachable,
    // unavailable) is passed on as it is.
    if ((err as { code?: unknown }).code !== INVALID_QUERY) throw err;
    throw new StoreError(`keyspace ${session.keyspace} has no Hermod schema: run "hermod migrate"`, { cause: err });
  }
  checkNotNewer(session.keyspace, current, migrations);
  const newest = newestVersion(migrations);
  if (current < newest) {
    throw new StoreError(
      `keyspace ${session.keyspace} is at schema version ${current}, this Hermod needs ${newest}: run "hermod migrate"`,
    );
  }
}

/** The highest version recorded in the keyspace, 0 when none. */
export async function schemaVersion(session: CassandraSession): Promise<number> {
  const rows = await session.rows(`SELECT version FROM ${session.table('schema_migrations')}`);
  return rows.reduce((max, row) => Math.max(max, row.get('version') as number), 0);
}

/**
 * The id of a table every node creates before it can take the lock (`schema_migrations`,
 * `schema_lock`). Nodes starting together create them at the same moment, through different
 * coordinators; without an id given, each creation makes up its own, and Cassandra (before
 * transactional cluster metadata) keeps one of them while writes already sent to the other are
 * refused or lost: the known hazard of concurrent CREATE TABLE. An id derived from the keyspace
 * and table names makes every node's creation the same table, as Cassandra does for its own
 * distributed system tables (a name-based, version 3 UUID).
 */
export function bootstrapTableId(keyspace: string, table: string): string {
  const digest = createHash('md5').update(`${keyspace.toLowerCase()}.${table}`).digest();
  digest[6] = (digest[6] & 0x0f) | 0x30;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = digest.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `CREATE KEYSPACE IF NOT EXISTS` with the replication from the config; true when it was new. */
async function ensureKeyspace(session: CassandraSession, replication: CassandraReplication): Promise<boolean> {
  if (await keyspaceReplication(session)) return false;
  await session.ddl(
    `CREATE KEYSPACE IF NOT EXISTS ${session.keyspace} WITH replication = ${replicationCql(replication)}`,
  );
  return true;
}

/** The replication map as CQL: `{'class': 'NetworkTopologyStrategy', 'dc1': '3'}`. */
export function replicationCql(replication: CassandraReplication): string {
  const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const pairs = Object.entries(replication).map(([key, value]) => `${quote(key)}: ${quote(String(value))}`);
  return `{${pairs.join(', ')}}`;
}

async function keyspaceReplication(session: CassandraSession): Promise<Record<string, string> | null> {
  const result = await session.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [
    session.keyspace,
  ]);
  const row = result.first();
  return row ? (row.get('replication') as Record<string, string>) : null;
}

/** Cassandra spells the class in full (org.apache.cassandra.locator.SimpleStrategy). */
function replicationWarning(
  keyspace: string,
  actual: Record<string, string>,
  wanted: CassandraReplication,
): string | undefined {
  const normalise = (map: Record<string, unknown>) =>
    JSON.stringify(
      Object.entries(map)
        .map(([k, v]) => [k, k === 'class' ? String(v).replace(/^.*\./, '') : String(v)])
        .sort(),
    );
  if (normalise(actual) === normalise(wanted)) return undefined;
  return (
    `keyspace ${keyspace} has replication ${replicationCql(actual as unknown as CassandraReplication)}, the config asks for ` +
    `${replicationCql(wanted)}; Hermod does not change it: ALTER KEYSPACE, then run a repair`
  );
}

async function takeLock(session: CassandraSession, owner: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const applied = await session
      .lwt(
        `INSERT INTO ${session.table('schema_lock')} (id, owner, taken_at) VALUES (0, ?, ?) IF NOT EXISTS USING TTL ${LOCK_TTL_SECONDS}`,
        [owner, new Date()],
      )
      .then(
        (result) => result.applied,
        (err: unknown) => {
          // The coordinator has not heard of the lock table yet (another node created it a
          // moment ago and the schema is still spreading): wait as for a held lock.
          if ((err as { code?: unknown }).code === INVALID_QUERY && Date.now() < deadline) return false;
          throw err;
        },
      );
    if (applied) return;
    if (Date.now() > deadline) {
      throw new StoreError(`keyspace ${session.keyspace}: another node has been migrating for too long; try again`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function releaseLock(session: CassandraSession, owner: string): Promise<void> {
  await session.lwt(`DELETE FROM ${session.table('schema_lock')} WHERE id = 0 IF owner = ?`, [owner]);
}

function newestVersion(migrations: readonly CassandraMigration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
}

function checkNotNewer(keyspace: string, current: number, migrations: readonly CassandraMigration[]): void {
  const newest = newestVersion(migrations);
  if (current > newest) {
    throw new StoreError(
      `keyspace ${keyspace} schema is at version ${current}, newer than this Hermod knows (${newest}); upgrade Hermod`,
    );
  }
}
