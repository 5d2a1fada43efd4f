/**
 * Run as a process of its own by cassandra-migrations.test.ts: connects, waits until the given
 * instant (ms since the epoch), applies the migrations to the keyspace and prints the report as
 * JSON, so several processes start their schema set-up at the same moment, as nodes would.
 *
 * Usage: node --import tsx test/store/migrate-at.ts KEYSPACE START_MS
 */
import { applyCassandraMigrations } from '../../src/store/cassandra/migrations.js';
import { testSession } from '../helpers/cassandra.js';

const [keyspace, startMs] = process.argv.slice(2);
const session = await testSession(keyspace);
try {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startMs) - Date.now())));
  const report = await applyCassandraMigrations(session, { class: 'SimpleStrategy', replication_factor: 1 });
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await session.shutdown();
}
