/**
 * Storage engines a benchmark case runs Hermod on.
 *
 * - `embedded`: SQLite store + SQLite FTS5 search in the case's temp dir (the default, and the
 *   baseline every other engine is compared with).
 * - `distributed`: Cassandra store + Elasticsearch search on the servers of `scripts/services`
 *   (started here if needed), each case in its own keyspace and index prefix, dropped afterwards.
 *
 * A profile only contributes config lines and a clean-up; the case itself (load, latency sample,
 * stored count) is the same code for every engine, so the figures are comparable.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cassandraStatements, elasticsearchBulks, probeRoundTrips, type DistributedBreakdown, type RoundTrips } from './distributed-stats.js';

/** Engine names accepted by --engines. */
export const ENGINE_NAMES = ['embedded', 'distributed'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What one case needs from its engine. */
export interface EngineProfile {
  name: EngineName;
  /** A short human description for the report. */
  describe: string;
  /** YAML lines added to the case's hermod.yaml (a new keyspace / index prefix per call). */
  configLines(): string[];
  /** Removes what the last configLines() made on shared servers; never throws. */
  cleanup(): Promise<void>;
  /**
   * What the servers did for the last configLines() (distributed only; call before cleanup):
   * statements per table of the keyspace and bulk requests of the index.
   */
  serverStats?(): Promise<Pick<DistributedBreakdown, 'tables' | 'elasticsearch'>>;
  /** Starts timing statement round trips on the last configLines()' keyspace; the result stops it. */
  probe?(): Promise<() => Promise<RoundTrips | null>>;
}

/** Where the shared servers listen (from `scripts/services env`). */
interface ServiceAddresses {
  cassandra: string;
  datacenter: string;
  elasticsearch: string;
}

const SERVICES = resolve('scripts/services');

/** Starts Cassandra and Elasticsearch if they are not running, and reads their addresses. */
function startServices(log: (line: string) => void): ServiceAddresses {
  log('distributed engines: scripts/services up cassandra elasticsearch');
  execFileSync('bash', [SERVICES, 'up', 'cassandra', 'elasticsearch'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env: Record<string, string> = {};
  for (const line of execFileSync('bash', [SERVICES, 'env'], { encoding: 'utf8' }).split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return {
    cassandra: env.HERMOD_TEST_CASSANDRA ?? '127.0.0.1:9142',
    datacenter: env.HERMOD_TEST_CASSANDRA_DATACENTER ?? 'datacenter1',
    elasticsearch: env.HERMOD_TEST_ELASTICSEARCH ?? 'http://127.0.0.1:9250',
  };
}

const embedded: EngineProfile = {
  name: 'embedded',
  describe: 'SQLite store + SQLite FTS5 search (temp dir)',
  configLines: () => [],
  cleanup: async () => undefined,
};

/** The distributed profile: a fresh keyspace and index prefix per case. */
function distributed(addresses: ServiceAddresses): EngineProfile {
  let current: string | null = null;
  return {
    name: 'distributed',
    describe: `Cassandra store (${addresses.cassandra}) + Elasticsearch search (${addresses.elasticsearch})`,
    configLines() {
      current = `bench_${randomBytes(4).toString('hex')}`;
      return [
        'store:',
        '  driver: cassandra',
        `  cassandra: { contactPoints: [${JSON.stringify(addresses.cassandra)}], localDataCenter: ${addresses.datacenter}, ` +
          `keyspace: ${current}, replication: { class: SimpleStrategy, replication_factor: 1 } }`,
        'search:',
        '  driver: elasticsearch',
        `  elasticsearch: { nodes: [${JSON.stringify(addresses.elasticsearch)}], indexPrefix: ${current.replace('_', '-')}, replicas: 0 }`,
      ];
    },
    async probe() {
      if (!current) return async () => null;
      return probeRoundTrips(addresses.cassandra, addresses.datacenter, current).catch(() => async () => null);
    },
    async serverStats() {
      if (!current) return { tables: [], elasticsearch: null };
      const tables = await cassandraStatements(addresses.cassandra, addresses.datacenter, current).catch(() => []);
      const prefix = current.replace('_', '-');
      return { tables, elasticsearch: await elasticsearchBulks(addresses.elasticsearch, `${prefix}-messages-v1`) };
    },
    async cleanup() {
      if (!current) return;
      const name = current;
      current = null;
      await dropKeyspace(addresses, name).catch(() => undefined);
      await dropIndex(addresses, name.replace('_', '-')).catch(() => undefined);
    },
  };
}

async function dropKeyspace(addresses: ServiceAddresses, keyspace: string): Promise<void> {
  const { default: cassandra } = await import('cassandra-driver');
  const client = new cassandra.Client({ contactPoints: [addresses.cassandra], localDataCenter: addresses.datacenter });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}

async function dropIndex(addresses: ServiceAddresses, prefix: string): Promise<void> {
  const mod = await import(pathToFileURL(resolve('dist/src/search/elasticsearch/elasticsearch-search-index.js')).href);
  const index = new mod.ElasticsearchSearchIndex({ nodes: [addresses.elasticsearch], indexPrefix: prefix });
  await index.init();
  await index.drop();
  await index.close();
}

/** Profiles for the names asked for; the embedded baseline always comes first. */
export function engineProfiles(names: EngineName[], log: (line: string) => void): EngineProfile[] {
  const wanted = new Set<EngineName>(['embedded', ...names]);
  const out: EngineProfile[] = [embedded];
  if (wanted.has('distributed')) out.push(distributed(startServices(log)));
  return out;
}

/** Parses --engines: a comma-separated list of engine names. */
export function parseEngines(raw: string | undefined): EngineName[] {
  if (raw === undefined) return ['embedded'];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(ENGINE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--engines: unknown engine "${name}" (known: ${ENGINE_NAMES.join(', ')})`);
    }
  }
  return names as EngineName[];
}
