import { join } from 'node:path';
import type { HermodConfig } from '../config/schema.js';
import type { MessageStore } from './message-store.js';
import { SqliteMessageStore } from './sqlite/sqlite-message-store.js';

/** Opens (and initialises) the message store the config selects. */
export async function openMessageStore(config: HermodConfig): Promise<MessageStore> {
  let store: MessageStore;
  if (config.store.driver === 'cassandra') {
    // Loaded only when chosen, so the embedded default never loads the Cassandra driver.
    const { CassandraMessageStore } = await import('./cassandra/cassandra-message-store.js');
    store = new CassandraMessageStore({ ...config.store.cassandra, contactPoints: [...config.store.cassandra.contactPoints] });
  } else {
    store = new SqliteMessageStore({
      file: join(config.dataDir, config.store.sqlite.file),
      busyTimeoutMs: config.store.sqlite.busyTimeoutMs,
      fileThresholdBytes: config.store.sqlite.fileThresholdBytes,
    });
  }
  await store.init();
  return store;
}
