import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import { cassandraContactPoint, cassandraDataCenter, testSession } from '../../helpers/cassandra.js';
import { elasticsearchUrl } from '../../helpers/elasticsearch.js';
import type { Hops } from './deployment.js';
import { haproxyCommand, type HermodNode } from './daemons.js';
import type { Cluster } from './deployment.js';

/**
 * Loopback addresses of the three-node deployment, apart from the two-node Postfix one's
 * (127.0.0.2–5) and the Haraka one's (127.0.0.12–15), so every e2e file can run at once.
 */
export const CLUSTER_HOPS = { CLIENT: '127.0.0.22', MTA: '127.0.0.23', HAPROXY: '127.0.0.24', HERMOD: '127.0.0.25' } as const satisfies Hops & {
  CLIENT: string;
};

/** Names of everything this deployment writes in the shared Redis, Cassandra and Elasticsearch. */
export interface SharedNames {
  keyspace: string;
  indexPrefix: string;
  /** Prefix of every Redis key: the BullMQ queue's, the greylist's and the rate limiter's. */
  redisPrefix: string;
}

export function uniqueSharedNames(): SharedNames {
  const hex = randomBytes(5).toString('hex');
  return { keyspace: `hermod_cluster_${hex}`, indexPrefix: `hermod-cluster-${hex}`, redisPrefix: `hermod-cluster-${hex}` };
}

const redisUrl = (): string => process.env.HERMOD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6390';

/**
 * The production shape as `hermod_extra_config`: Cassandra store, Elasticsearch index, BullMQ
 * queue, greylisting and rate limits in Redis (shared by the nodes), a smarthost for outbound.
 * Leases, retries and time-outs are short so a killed node's work moves on within seconds.
 */
export function productionConfig(names: SharedNames, relayPort: number): Record<string, unknown> {
  const redis = (part: string) => ({ url: redisUrl(), keyPrefix: `${names.redisPrefix}:${part}:` });
  const plugin = (name: string, config: Record<string, unknown> = {}) => ({ name, timeoutMs: 5000, failOpen: false, config });
  return {
    store: {
      driver: 'cassandra',
      cassandra: { contactPoints: [cassandraContactPoint()], localDataCenter: cassandraDataCenter(), keyspace: names.keyspace },
    },
    search: {
      driver: 'elasticsearch',
      pollMs: 100,
      elasticsearch: { nodes: [elasticsearchUrl()], indexPrefix: names.indexPrefix, replicas: 0, refreshIntervalMs: 200 },
    },
    queue: {
      driver: 'bullmq',
      bullmq: { url: redisUrl(), prefix: names.redisPrefix },
      workers: 10,
      pollMs: 100,
      leaseMs: 6000,
      attemptTimeoutMs: 5000,
      retry: { firstMs: 1000, maxIntervalMs: 2000 },
      perDestination: { concurrency: 10 },
    },
    relay: { host: '127.0.0.1', port: relayPort },
    delivery: { connectTimeoutMs: 3000, socketTimeoutMs: 4000 },
    plugins: [
      // Every client is counted and greylisted (loopback included): the counters and triplets
      // live in Redis, so what one node learnt the others apply.
      plugin('ratelimit', {
        store: 'redis',
        redis: redis('rl'),
        allowClients: [],
        client: { points: 1_000_000, durationSeconds: 60 },
        sender: { points: 1_000_000, durationSeconds: 3600 },
      }),
      plugin('greylist', { store: 'redis', redis: redis('gl'), allowClients: [], delaySeconds: 1 }),
      plugin('parse'),
      plugin('spam'),
      plugin('bayes'),
      plugin('classify'),
    ],
  };
}

/** Redis keys matching `pattern` (SCAN, never KEYS: the server is shared). */
export async function redisKeys(pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl(), { lazyConnect: true });
  const found: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return found;
}

/** Drops the keyspace, the index and its template, and every Redis key under the prefix. */
export async function dropSharedNames(names: SharedNames): Promise<void> {
  const session = await testSession(names.keyspace).catch(() => undefined);
  if (session) {
    await session.ddl(`DROP KEYSPACE IF EXISTS ${names.keyspace}`).catch(() => undefined);
    await session.shutdown();
  }
  const es = elasticsearchUrl();
  await fetch(`${es}/${names.indexPrefix}-messages-v1`, { method: 'DELETE' }).catch(() => undefined);
  await fetch(`${es}/_index_template/${names.indexPrefix}-messages`, { method: 'DELETE' }).catch(() => undefined);
  const keys = await redisKeys(`${names.redisPrefix}*`);
  const redis = new Redis(redisUrl(), { lazyConnect: true });
  try {
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}

/** A message with a Message-ID of its own; the id is what the store is checked by. */
export function distinctMessage(messageId: string, to: string, n: number): string {
  return [
    'From: Bob <bob@remote.test>',
    `To: <${to}>`,
    `Subject: cluster ${messageId}`,
    `Message-ID: <${messageId}>`,
    'Date: Fri, 04 Dec 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Message number ${n} of the three-node run; the lighthouse keeper counts walruses.`,
    '',
  ].join('\r\n');
}

/** What injecting a batch into the MTA took: time, and how many 4xx replies were retried. */
export interface Injection {
  ms: number;
  tempFailures: number;
}

/**
 * Sends `messages` to the MTA over a few (pooled) SMTP sessions from the client address. A 4xx
 * (e.g. Postfix's recipient lookup meeting a node as it dies) is retried after a pause, as a
 * sending MTA would; anything else fails the batch.
 */
export async function injectMessages(
  mta: { host: string; port: number; from: string },
  messages: { to: string; raw: string }[],
  sessions = 8,
  pooled = true,
): Promise<Injection> {
  const started = Date.now();
  const transport = createTransport({
    host: mta.host,
    port: mta.port,
    localAddress: mta.from,
    name: 'client.remote.test',
    ignoreTLS: true,
    // Not pooled: a connection per message, so a load balancer chooses a server for each.
    ...(pooled ? { pool: true as const, maxConnections: sessions, maxMessages: Infinity } : {}),
  });
  let tempFailures = 0;
  let next = 0;
  const sendOne = async (m: { to: string; raw: string }): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await transport.sendMail({ envelope: { from: 'bob@remote.test', to: [m.to] }, raw: m.raw });
        return;
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode ?? 0;
        if (code < 400 || code >= 500 || attempt >= 20) throw err;
        tempFailures++;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const worker = async (): Promise<void> => {
    while (next < messages.length) await sendOne(messages[next++]);
  };
  try {
    await Promise.all(Array.from({ length: sessions }, worker));
  } finally {
    transport.close();
  }
  return { ms: Date.now() - started, tempFailures };
}

/** Recipients a node stored (or found already stored), from its `transaction` log lines. */
export function storedCount(nodes: HermodNode[]): number {
  let n = 0;
  for (const node of nodes) {
    for (const line of node.logs) {
      if (line.msg !== 'transaction') continue;
      for (const r of (line.rcpt as { outcome?: string }[] | undefined) ?? []) if (r.outcome === 'stored' || r.outcome === 'duplicate') n++;
    }
  }
  return n;
}

/** Sessions HAProxy ever opened to each server (`stot` of `show stat`), e.g. { 'hermod_lmtp/node2': 812 }. */
export async function sessionTotals(d: Cluster): Promise<Record<string, number>> {
  const lines = (await haproxyCommand(d, 'show stat')).split('\n').filter((l) => l && !l.startsWith('#'));
  const totals: Record<string, number> = {};
  for (const line of lines) {
    const fields = line.split(',');
    if (fields[1] !== 'FRONTEND' && fields[1] !== 'BACKEND') totals[`${fields[0]}/${fields[1]}`] = Number(fields[7]);
  }
  return totals;
}

/** Message-ID → how many times it occurs. */
export function countIds(ids: (string | null | undefined)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
