/**
 * The per-delivery breakdown of a distributed case: what Cassandra and Elasticsearch did for the
 * case's own keyspace and index, and the CPU of the three processes during the load window.
 *
 * - Cassandra: coordinator reads and writes per table of the case's keyspace, from the virtual
 *   tables system_views.coordinator_{read,write}_latency (count, p50, p99). A batch counts once
 *   per statement in it, so these are statements, not round trips.
 * - Elasticsearch: the index's bulk requests and their average size (`_stats/bulk,indexing`).
 * - CPU: utime + stime from /proc of Hermod, Cassandra and Elasticsearch (the servers' pids
 *   from `scripts/services status`). The servers are shared with whatever else runs on the
 *   machine, so their CPU is an upper bound for this case.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ProcessSampler, type ProcessStats } from './process-stats.js';

/** Statements of one table of the case's keyspace. */
export interface TableStatements {
  table: string;
  kind: 'read' | 'write';
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/** What the breakdown prints for one distributed case. */
export interface DistributedBreakdown {
  /** Messages stored in the case (load + latency sample): what the statement counts cover. */
  deliveries: number;
  /** Messages of the load window: what the CPU figures cover. */
  loadMessages: number;
  tables: TableStatements[];
  elasticsearch: { bulkRequests: number; documents: number; avgBulkBytes: number } | null;
  cpu: { cassandra: ProcessStats | null; elasticsearch: ProcessStats | null };
  /** Round trips of a probe read timed from the bench during the load window (null: no probe). */
  probe?: RoundTrips | null;
}

/** Client-side round trips of one prepared single-partition read, sampled while the load ran. */
export interface RoundTrips {
  samples: number;
  p50Ms: number;
  p99Ms: number;
}

const PROBE_EVERY_MS = 50;

/**
 * Times one prepared single-partition read (a claim that does not exist) every PROBE_EVERY_MS
 * until the returned function is called: what one statement's round trip costs under the load,
 * seen from a client on the same machine. The coordinator figures of system_views are kept too,
 * but they are Cassandra's own (decaying) histograms, rounded to 0.001 of their unit.
 */
export async function probeRoundTrips(contactPoint: string, datacenter: string, keyspace: string): Promise<() => Promise<RoundTrips | null>> {
  const { default: cassandra } = await import('cassandra-driver');
  const client = new cassandra.Client({ contactPoints: [contactPoint], localDataCenter: datacenter });
  await client.connect();
  const query = `SELECT entry_id FROM ${keyspace}.entry_claims WHERE mailbox_id = ? AND sha256 = ?`;
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = process.hrtime.bigint();
      try {
        await client.execute(query, ['probe', 'probe'], { prepare: true });
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      } catch {
        // A failed probe is no round trip; the case reports its own failures.
      }
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  })();
  return async () => {
    running = false;
    await loop;
    await client.shutdown();
    if (times.length === 0) return null;
    const sorted = [...times].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { samples: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
  };
}

/** Pids of the shared servers, from `scripts/services status`. */
export function servicePids(): { cassandra: number | null; elasticsearch: number | null } {
  let out = '';
  try {
    out = execFileSync('bash', [resolve('scripts/services'), 'status', 'cassandra', 'elasticsearch'], { encoding: 'utf8' });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const pid = (name: string) => {
    const m = new RegExp(`^${name}\\s+running.*?pid (\\d+)`, 'm').exec(out);
    return m ? Number(m[1]) : null;
  };
  return { cassandra: pid('cassandra'), elasticsearch: pid('elasticsearch') };
}

/** Samplers for the servers' CPU over a window; missing pids give null. */
export function sampleServers(): () => DistributedBreakdown['cpu'] {
  const pids = servicePids();
  const start = (pid: number | null) => {
    try {
      return pid ? new ProcessSampler(pid) : null;
    } catch {
      return null;
    }
  };
  const cassandra = start(pids.cassandra);
  const elasticsearch = start(pids.elasticsearch);
  return () => ({ cassandra: cassandra?.stop() ?? null, elasticsearch: elasticsearch?.stop() ?? null });
}

/** Coordinator statements per table of a keyspace (tables with none are left out). */
export async function cassandraStatements(contactPoint: string, datacenter: string, keyspace: string): Promise<TableStatements[]> {
  const { default: cassandra } = await import('cassandra-driver');
  const client = new cassandra.Client({ contactPoints: [contactPoint], localDataCenter: datacenter });
  const out: TableStatements[] = [];
  try {
    for (const kind of ['read', 'write'] as const) {
      const result = await client.execute(
        `SELECT table_name, count, p50th_ms, p99th_ms FROM system_views.coordinator_${kind}_latency WHERE keyspace_name = ? ALLOW FILTERING`,
        [keyspace],
      );
      for (const row of result.rows) {
        const count = Number(row.get('count'));
        if (count > 0) {
          out.push({ table: row.get('table_name'), kind, count, p50Ms: row.get('p50th_ms'), p99Ms: row.get('p99th_ms') });
        }
      }
    }
  } finally {
    await client.shutdown();
  }
  return out.sort((a, b) => b.count - a.count);
}

/** Statements counted since `before` (a snapshot of the same keyspace), per table and kind. */
export function subtractStatements(after: TableStatements[], before: TableStatements[]): TableStatements[] {
  const earlier = new Map(before.map((t) => [`${t.kind}/${t.table}`, t.count]));
  return after
    .map((t) => ({ ...t, count: t.count - (earlier.get(`${t.kind}/${t.table}`) ?? 0) }))
    .filter((t) => t.count > 0)
    .sort((a, b) => b.count - a.count);
}

/** Bulk requests and documents indexed into an index (its primaries). */
export async function elasticsearchBulks(url: string, index: string): Promise<DistributedBreakdown['elasticsearch']> {
  try {
    const response = await fetch(`${url}/${index}/_stats/bulk,indexing`);
    if (!response.ok) return null;
    const body = (await response.json()) as {
      _all?: { primaries?: { bulk?: { total_operations?: number; avg_size_in_bytes?: number }; indexing?: { index_total?: number } } };
    };
    const p = body._all?.primaries;
    return {
      bulkRequests: p?.bulk?.total_operations ?? 0,
      documents: p?.indexing?.index_total ?? 0,
      avgBulkBytes: p?.bulk?.avg_size_in_bytes ?? 0,
    };
  } catch {
    return null;
  }
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** Lines printed under the table for one distributed case. */
export function breakdownLines(name: string, b: DistributedBreakdown, hermodCpuSeconds: number | null): string[] {
  const per = (n: number) => n / Math.max(1, b.deliveries);
  const lines = [`${name}: per delivery (${b.deliveries} deliveries: warm-up + load + latency sample)`];
  const reads = b.tables.filter((t) => t.kind === 'read').reduce((s, t) => s + t.count, 0);
  const writes = b.tables.filter((t) => t.kind === 'write').reduce((s, t) => s + t.count, 0);
  lines.push(`  cassandra statements: ${fmt(per(writes + reads), 2)} (${fmt(per(writes), 2)} writes, ${fmt(per(reads), 2)} reads; indexer included)`);
  for (const t of b.tables) {
    lines.push(`    ${t.kind.padEnd(5)} ${t.table.padEnd(22)} ${fmt(per(t.count), 2).padStart(6)}/delivery  system_views p50 ${fmt(t.p50Ms, 3)}  p99 ${fmt(t.p99Ms, 3)} (as reported)`);
  }
  if (b.probe) {
    lines.push(
      `  one statement's round trip under this load (a prepared read timed from the bench every ${PROBE_EVERY_MS} ms, ` +
        `${b.probe.samples} samples): p50 ${fmt(b.probe.p50Ms, 2)} ms  p99 ${fmt(b.probe.p99Ms, 2)} ms`,
    );
  }
  const es = b.elasticsearch;
  lines.push(
    es
      ? `  elasticsearch: ${es.bulkRequests} bulk requests, ${fmt(es.documents / Math.max(1, es.bulkRequests), 1)} docs and ${fmt(es.avgBulkBytes / 1024, 1)} KiB per bulk, ${fmt(per(es.bulkRequests), 3)} bulks/delivery`
      : '  elasticsearch: index stats unavailable',
  );
  const ms = (s: number | null | undefined) =>
    s === null || s === undefined ? 'n/a' : `${fmt((s * 1000) / Math.max(1, b.loadMessages), 2)} ms`;
  const pct = (p: ProcessStats | null) => (p ? `${fmt(p.cpuPercent, 0)} %` : 'n/a');
  lines.push(
    `  CPU per delivery (load window): hermod ${ms(hermodCpuSeconds)}, cassandra ${ms(b.cpu.cassandra?.cpuSeconds)} ` +
      `(${pct(b.cpu.cassandra)}), elasticsearch ${ms(b.cpu.elasticsearch?.cpuSeconds)} (${pct(b.cpu.elasticsearch)}); ` +
      'the servers are shared with the rest of the machine, so theirs is an upper bound',
  );
  return lines;
}
