import { join } from 'node:path';
import type { HermodConfig } from '../config/schema.js';
import type { MessageStore } from './message-store.js';
import { SqliteMessageStore } from './sqlite/sqlite-message-store.js';

/** Opens (and initialises) the message store the config selects. */
export async function openMessageStore(config: HermodConfig): Promise<MessageStore> {
  const store = new SqliteMessageStore({
    file: join(config.dataDir, config.store.sqlite.file),
    busyTimeoutMs: config.store.sqlite.busyTimeoutMs,
  });
  await store.init();
  return store;
}
