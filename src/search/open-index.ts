import { join } from 'node:path';
import type { HermodConfig } from '../config/schema.js';
import type { SearchIndex } from './search-index.js';
import { FtsSearchIndex } from './sqlite-fts/fts-search-index.js';

/** Opens (and initialises) the search index the config selects. */
export async function openSearchIndex(config: HermodConfig): Promise<SearchIndex> {
  const index = new FtsSearchIndex({ file: join(config.dataDir, config.search.sqlite.file) });
  await index.init();
  return index;
}
