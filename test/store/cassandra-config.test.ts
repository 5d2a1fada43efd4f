import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { replicationCql } from '../../src/store/cassandra/migrations.js';

/** `store.driver` and `store.cassandra`: defaults, validation, environment overrides, the example. */
describe('store.cassandra configuration', () => {
  // An empty file: not config/hermod.yaml, whose values would be merged under the overrides.
  const load = (store: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
    loadConfig({ env, file: '/dev/null', overrides: { store } });

  it('defaults to the embedded store, with Cassandra defaults ready for a dev node', () => {
    const config = loadConfig({ env: {}, file: '/dev/null' });
    expect(config.store.driver).toBe('sqlite');
    expect(config.store.cassandra).toEqual({
      contactPoints: ['127.0.0.1:9042'],
      localDataCenter: 'datacenter1',
      keyspace: 'hermod',
      replication: { class: 'SimpleStrategy', replication_factor: 1 },
      consistency: 'LOCAL_QUORUM',
      serialConsistency: 'LOCAL_SERIAL',
      migrateOnStart: true,
      chunkBytes: 262144,
      requestTimeoutMs: 10000,
      addressCacheMs: 2000,
      bayesTotalsCacheMs: 5000,
      bayesTokensCacheMs: 30000,
    });
  });

  it('takes NetworkTopologyStrategy with replicas per datacenter, and contact points from the environment', () => {
    const config = load(
      { driver: 'cassandra', cassandra: { replication: { class: 'NetworkTopologyStrategy', dc1: 3, dc2: 2 } } },
      { HERMOD_STORE__CASSANDRA__CONTACT_POINTS: 'c1:9042, c2:9042', HERMOD_STORE__CASSANDRA__CONSISTENCY: 'EACH_QUORUM' },
    );
    expect(config.store.cassandra).toMatchObject({
      contactPoints: ['c1:9042', 'c2:9042'],
      consistency: 'EACH_QUORUM',
      replication: { class: 'NetworkTopologyStrategy', dc1: 3, dc2: 2 },
    });
    expect(replicationCql(config.store.cassandra.replication)).toBe(
      "{'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'}",
    );
  });

  it.each([
    [{ driver: 'mongodb' }, /store\.driver/],
    [{ cassandra: { keyspace: 'Hermod-Prod' } }, /store\.cassandra\.keyspace/],
    [{ cassandra: { consistency: 'SERIAL' } }, /store\.cassandra\.consistency/],
    [{ cassandra: { replication: { class: 'NetworkTopologyStrategy' } } }, /store\.cassandra\.replication/],
    [{ cassandra: { replication: { class: 'SimpleStrategy' } } }, /store\.cassandra\.replication/],
    [{ cassandra: { chunkBytes: 16 * 1024 * 1024 } }, /store\.cassandra\.chunkBytes/],
    [{ cassandra: { username: 'hermod' } }, /store\.cassandra/],
    [{ cassandra: { contactPoints: [] } }, /store\.cassandra\.contactPoints/],
  ])('refuses %j, naming the key', (store, key) => {
    expect(() => load(store)).toThrow(ConfigError);
    expect(() => load(store)).toThrow(key);
  });

  it('validates the production example: three Cassandra nodes, Elasticsearch, Redis', () => {
    const config = loadConfig({ env: {}, file: 'config/production.example.yaml' });
    expect(config.store.driver).toBe('cassandra');
    expect(config.store.cassandra.contactPoints).toHaveLength(3);
    expect(config.store.cassandra.replication).toEqual({ class: 'NetworkTopologyStrategy', dc1: 3 });
    expect(config.search.driver).toBe('elasticsearch');
    expect(config.search.elasticsearch.nodes).toHaveLength(3);
    expect(config.queue.driver).toBe('bullmq');
  });
});
