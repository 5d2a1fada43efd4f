import { join } from 'node:path';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { ElasticsearchSearchIndex } from './elasticsearch/elasticsearch-search-index.js';
import type { SearchIndex } from './search-index.js';
import { FtsSearchIndex } from './sqlite-fts/fts-search-index.js';

/**
 * The Elasticsearch adapter for a config (not yet initialised). The client library is imported
 * here, when chosen, so the embedded default never loads it.
 */
export async function elasticsearchIndex(config: HermodConfig, log?: Logger): Promise<ElasticsearchSearchIndex> {
  const { ElasticsearchSearchIndex } = await import('./elasticsearch/elasticsearch-search-index.js');
  const es = config.search.elasticsearch;
  return new ElasticsearchSearchIndex({
    nodes: [...es.nodes],
    indexPrefix: es.indexPrefix,
    settings: { shards: es.shards, replicas: es.replicas, refreshIntervalMs: es.refreshIntervalMs },
    requestTimeoutMs: es.requestTimeoutMs,
    auth: es.username !== undefined && es.password !== undefined ? { username: es.username, password: es.password } : undefined,
    log,
  });
}

/**
 * Opens (and initialises) the search index the config selects. An unreachable Elasticsearch does
 * not fail this (its set-up is retried on use, see ElasticsearchSearchIndex); `log` hears about it.
 */
export async function openSearchIndex(config: HermodConfig, log?: Logger): Promise<SearchIndex> {
  const index =
    config.search.driver === 'elasticsearch'
      ? await elasticsearchIndex(config, log)
      : new FtsSearchIndex({ file: join(config.dataDir, config.search.sqlite.file) });
  await index.init();
  return index;
}
