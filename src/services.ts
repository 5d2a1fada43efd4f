import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HermodConfig } from './config/schema.js';
import { openSearchIndex } from './search/open-index.js';
import type { SearchIndex } from './search/search-index.js';
import type { MessageStore } from './store/message-store.js';
import { openMessageStore } from './store/open-store.js';

/** The backends one Hermod process works with; the CLI and the listeners both use these. */
export interface HermodServices {
  config: HermodConfig;
  log: Logger;
  store: MessageStore;
  search: SearchIndex;
  close(): Promise<void>;
}

/** Opens the store and the search index the config selects. */
export async function openServices(config: HermodConfig, log: Logger): Promise<HermodServices> {
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openMessageStore(config);
  let search: SearchIndex;
  try {
    search = await openSearchIndex(config, log);
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    config,
    log,
    store,
    search,
    async close() {
      await search.close();
      await store.close();
    },
  };
}
