export { CassandraMessageStore, type CassandraMessageStoreOptions } from './cassandra-message-store.js';
export { cassandraStoreSchema, type CassandraStoreConfig } from './config-schema.js';
export { applyCassandraMigrations, checkCassandraSchema, type CassandraMigrationReport } from './migrations.js';
export { CASSANDRA_MIGRATIONS, type CassandraMigration } from './schema.js';
