import cassandra from 'cassandra-driver';
import type { ConsistencyLevel, SerialConsistencyLevel } from './config-schema.js';

const { consistencies } = cassandra.types;

/** CQL parameters: positional. */
export type Params = unknown[];

/** A statement of a batch. */
export interface BatchStatement {
  query: string;
  params: Params;
}

/** How one statement runs, beyond the session's defaults. */
export interface RunOptions {
  /**
   * Safe to send twice (plain INSERT/UPDATE/DELETE of fixed values): the driver may then retry
   * it on a timeout. Counter updates and lightweight transactions are not. @defaultValue false
   */
  idempotent?: boolean;
  /** Rows per page when reading a whole partition. @defaultValue 500 */
  fetchSize?: number;
}

/** Options for {@link CassandraSession.connect}. */
export interface CassandraConnectOptions {
  /** `host:port` of nodes to discover the cluster from. */
  contactPoints: string[];
  localDataCenter: string;
  /** Keyspace the session's tables live in; it need not exist yet (statements name it). */
  keyspace: string;
  consistency: ConsistencyLevel;
  serialConsistency: SerialConsistencyLevel;
  /** Client-side limit of one request. */
  requestTimeoutMs: number;
  username?: string;
  password?: string;
  /** Sees every request with its execution options (tests check the consistency level with it). */
  requestTracker?: cassandra.tracker.RequestTracker;
}

/** Least time a schema statement may take. */
export const DDL_TIMEOUT_MS = 60_000;
/** First and longest wait between reconnection attempts to a node that went down. */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 10_000;

const LEVELS: Record<ConsistencyLevel | SerialConsistencyLevel, number> = {
  ONE: consistencies.one,
  TWO: consistencies.two,
  THREE: consistencies.three,
  QUORUM: consistencies.quorum,
  ALL: consistencies.all,
  LOCAL_QUORUM: consistencies.localQuorum,
  EACH_QUORUM: consistencies.eachQuorum,
  LOCAL_ONE: consistencies.localOne,
  SERIAL: consistencies.serial,
  LOCAL_SERIAL: consistencies.localSerial,
};

/** The driver's number for a consistency level name. */
export function consistencyCode(level: ConsistencyLevel | SerialConsistencyLevel): number {
  return LEVELS[level];
}

/**
 * One connection pool to the cluster, and the single place statements are sent from: every
 * statement is prepared, runs at the configured consistency (lightweight transactions at the
 * configured serial consistency for their Paxos phase) and is bounded by the request timeout.
 * Errors are the driver's; the store turns them into StoreError.
 */
export class CassandraSession {
  private readonly consistency: number;
  private readonly serialConsistency: number;
  private readonly requestTimeoutMs: number;

  private constructor(
    readonly client: cassandra.Client,
    readonly keyspace: string,
    options: CassandraConnectOptions,
  ) {
    this.consistency = consistencyCode(options.consistency);
    this.serialConsistency = consistencyCode(options.serialConsistency);
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  /** Connects to the cluster (not to the keyspace: it may not exist before `hermod migrate`). */
  static async connect(options: CassandraConnectOptions): Promise<CassandraSession> {
    const credentials =
      options.username !== undefined && options.password !== undefined
        ? { username: options.username, password: options.password }
        : undefined;
    const client = new cassandra.Client({
      contactPoints: options.contactPoints,
      localDataCenter: options.localDataCenter,
      // The driver refuses these keys when present but undefined.
      ...(credentials ? { credentials } : {}),
      ...(options.requestTracker ? { requestTracker: options.requestTracker } : {}),
      socketOptions: {
        connectTimeout: Math.min(options.requestTimeoutMs, 5000),
        readTimeout: options.requestTimeoutMs,
      },
      policies: {
        // The default waits up to 10 minutes between attempts: far too long for a mail server
        // that answers 451 until the node is back.
        reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(
          RECONNECT_BASE_MS,
          RECONNECT_MAX_MS,
          false,
        ),
      },
      queryOptions: {
        consistency: consistencyCode(options.consistency),
        serialConsistency: consistencyCode(options.serialConsistency),
        prepare: true,
      },
      encoding: { useUndefinedAsUnset: true },
    });
    try {
      await client.connect();
    } catch (err) {
      await client.shutdown().catch(() => undefined);
      throw err;
    }
    return new CassandraSession(client, options.keyspace, options);
  }

  /** `keyspace.name`, for statement text. */
  table(name: string): string {
    return `${this.keyspace}.${name}`;
  }

  /** One prepared statement at the session's consistency. */
  execute(query: string, params: Params = [], options: RunOptions = {}): Promise<cassandra.types.ResultSet> {
    return this.client.execute(query, params, this.queryOptions(options));
  }

  /** Every row of a (paged) read. */
  async rows(query: string, params: Params = [], options: RunOptions = {}): Promise<cassandra.types.Row[]> {
    const rows: cassandra.types.Row[] = [];
    let pageState: string | undefined;
    do {
      const result = await this.client.execute(query, params, {
        ...this.queryOptions(options),
        fetchSize: options.fetchSize ?? 500,
        pageState,
      });
      rows.push(...result.rows);
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  /** Reads a (paged) query page by page, so a large partition is never held in memory whole. */
  async forEachPage(query: string, params: Params, options: RunOptions, onPage: (rows: cassandra.types.Row[]) => void): Promise<void> {
    let pageState: string | undefined;
    do {
      const result = await this.client.execute(query, params, {
        ...this.queryOptions(options),
        fetchSize: options.fetchSize ?? 500,
        pageState,
      });
      onPage(result.rows);
      pageState = result.pageState ?? undefined;
    } while (pageState);
  }

  /**
   * A lightweight transaction (`… IF …`): Paxos at the serial consistency, then the commit at
   * the session's consistency. Returns whether it applied and the row Cassandra answered with
   * (the current values when it did not apply).
   */
  async lwt(query: string, params: Params): Promise<{ applied: boolean; row: cassandra.types.Row }> {
    const result = await this.client.execute(query, params, this.queryOptions({ idempotent: false }));
    return { applied: result.wasApplied(), row: result.first() };
  }

  /** A read that sees every lightweight transaction committed before it (Paxos read). */
  serialRead(query: string, params: Params): Promise<cassandra.types.ResultSet> {
    return this.client.execute(query, params, {
      prepare: true,
      consistency: this.serialConsistency,
      isIdempotent: true,
    });
  }

  /** A batch: logged (all or, eventually, all) or a counter batch. */
  batch(statements: BatchStatement[], kind: 'logged' | 'unlogged' | 'counter'): Promise<cassandra.types.ResultSet> {
    return this.client.batch(statements, {
      prepare: true,
      consistency: this.consistency,
      logged: kind === 'logged',
      counter: kind === 'counter',
      isIdempotent: kind !== 'counter',
    });
  }

  /**
   * Idempotent writes in one round trip: an unlogged batch (not atomic across partitions — the
   * callers' writes are safe to repeat and ordered by step, not by batch), or each statement on
   * its own when the batch would come near Cassandra's batch_size_fail_threshold (50 KiB): a
   * hostile header list must not turn into a batch the server refuses on every retry.
   */
  async batchOrEach(statements: BatchStatement[]): Promise<void> {
    if (statements.length === 0) return;
    if (statements.length === 1 || approximateBytes(statements) > MAX_BATCH_BYTES) {
      await Promise.all(statements.map((s) => this.execute(s.query, s.params, { idempotent: true })));
      return;
    }
    await this.batch(statements, 'unlogged');
  }

  /**
   * A schema statement (CREATE/ALTER …); the driver waits for schema agreement after it. Schema
   * changes take seconds on a busy cluster, so they get at least DDL_TIMEOUT_MS, whatever the
   * request timeout for mail traffic is.
   */
  ddl(query: string): Promise<cassandra.types.ResultSet> {
    return this.client.execute(query, [], {
      prepare: false,
      consistency: this.consistency,
      readTimeout: Math.max(this.requestTimeoutMs, DDL_TIMEOUT_MS),
    });
  }

  shutdown(): Promise<void> {
    return this.client.shutdown();
  }

  private queryOptions(options: RunOptions): cassandra.QueryOptions {
    return {
      prepare: true,
      consistency: this.consistency,
      serialConsistency: this.serialConsistency,
      isIdempotent: options.idempotent ?? false,
    };
  }
}

/** Largest batch sent as one: well under Cassandra's default batch_size_fail_threshold (50 KiB). */
export const MAX_BATCH_BYTES = 32 * 1024;

/** Bytes of the values of a batch, roughly as serialised (strings as UTF-8, buffers as is). */
function approximateBytes(statements: BatchStatement[]): number {
  let total = 0;
  const add = (value: unknown): void => {
    if (typeof value === 'string') total += Buffer.byteLength(value, 'utf8');
    else if (Buffer.isBuffer(value)) total += value.length;
    else if (Array.isArray(value)) value.forEach(add);
    else total += 8;
  };
  for (const s of statements) s.params.forEach(add);
  return total;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error,
 * after the calls in flight have settled (so none is left running unobserved).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
  return results;
}

/** Partition keys per `IN (…)` read: the coordinator reads them in parallel; more would only queue. */
export const KEYS_PER_READ = 50;

/** Splits keys into groups of at most KEYS_PER_READ. */
export function inGroups(keys: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) groups.push(keys.slice(i, i + KEYS_PER_READ));
  return groups;
}
