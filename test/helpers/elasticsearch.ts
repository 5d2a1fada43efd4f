import { randomBytes } from 'node:crypto';
import { ElasticsearchSearchIndex } from '../../src/search/elasticsearch/elasticsearch-search-index.js';
import type { IndexSettings } from '../../src/search/elasticsearch/es-mapping.js';

/** The Elasticsearch the tests use (test/global-setup.ts starts it and sets the variable). */
export function elasticsearchUrl(): string {
  return process.env.HERMOD_TEST_ELASTICSEARCH ?? 'http://127.0.0.1:9250';
}

/** An index prefix no other test (or run) uses: `hermod-test-<hex>`. */
export function uniquePrefix(label = 'test'): string {
  return `hermod-${label}-${randomBytes(5).toString('hex')}`;
}

/**
 * A fresh, not yet initialised Elasticsearch index under a unique prefix, on one shard with no
 * replica (green on a single node) and a short refresh interval (writes wait for a refresh).
 * `cleanup()` closes it and deletes its index and template.
 */
export function testElasticsearchIndex(settings: Partial<IndexSettings> = {}, prefix = uniquePrefix()) {
  const options = {
    nodes: [elasticsearchUrl()],
    indexPrefix: prefix,
    settings: { shards: 1, replicas: 0, refreshIntervalMs: 100, ...settings },
  };
  const index = new ElasticsearchSearchIndex(options);
  return {
    index,
    prefix,
    async cleanup(): Promise<void> {
      await index.close();
      // A second handle: the test may have closed the first one already.
      const dropper = new ElasticsearchSearchIndex(options);
      await dropper.init();
      await dropper.drop();
      await dropper.close();
    },
  };
}
