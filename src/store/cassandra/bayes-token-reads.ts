import type { BayesCounts } from '../types.js';
import { mapLimit, type CassandraSession } from './cassandra-session.js';
import { RecentValues } from './recent-values.js';
import { toNumber } from './row-mappers.js';

/** How long a token's counts are served from memory (store.cassandra.bayesTokensCacheMs). */
export const DEFAULT_BAYES_TOKENS_CACHE_MS = 30_000;
/** Token counts kept at most, over all scopes (oldest dropped first): some 15 MiB. */
const TOKENS_KEPT = 100_000;
/**
 * Clustering names one read may ask Cassandra to look up: buckets × terms of the read. A read of
 * several buckets asks every bucket for every term in the read (the IN lists multiply), so reads
 * are packed up to this many lookups, not more: measured on Cassandra 5, one read of 180 buckets
 * × 300 terms cost five times the Cassandra CPU of 180 one-bucket reads.
 */
const NAMES_PER_READ = 256;
/** Reads of one lookup in flight at once. */
const READS_IN_FLIGHT = 16;
/** What an unknown token counts. */
const UNKNOWN: BayesCounts = Object.freeze({ spam: 0, ham: 0 });

/**
 * The read side of `bayes_tokens`: token counts of a scope, in few requests, served again from
 * memory for a short while.
 *
 * Tokens live in 256 partitions per scope ((scope, bucket), term), so the tokens of one message
 * fall in up to 256 partitions. They are read with several buckets per request (`bucket IN ?
 * AND term IN ?`), packed so that no request makes Cassandra look up more than NAMES_PER_READ
 * names. Counts read (and tokens found unknown) are kept for `cacheMs`: a token that
 * another node's learn changed is seen that much later here; a learn or a drop through this
 * node forgets what it changed at once. docs/exactly-once.md ("What a node serves from memory")
 * argues why that lag is harmless to classification.
 */
export class BayesTokenReads {
  private readonly sql: { lookup: string };
  private readonly recent: RecentValues<BayesCounts>;
  /** Bumped when a scope is dropped: counts kept from before no longer match any key. */
  private readonly epochs = new Map<string, number>();
  /**
   * Learns and drops through this node so far. A lookup that overlapped one may have read counts
   * from before it, after its forget ran: such a lookup answers but keeps nothing.
   */
  private changes = 0;

  constructor(
    private readonly session: CassandraSession,
    private readonly bucketOf: (token: string) => number,
    cacheMs = DEFAULT_BAYES_TOKENS_CACHE_MS,
  ) {
    this.recent = new RecentValues(cacheMs, TOKENS_KEPT);
    this.sql = {
      lookup: `SELECT term, spam, ham FROM ${session.table('bayes_tokens')} WHERE scope = ? AND bucket IN ? AND term IN ?`,
    };
  }

  /** Counts of the tokens the scope knows (served from memory when read lately). */
  async lookup(scope: string, tokens: readonly string[]): Promise<Map<string, BayesCounts>> {
    const found = new Map<string, BayesCounts>();
    const missing: string[] = [];
    for (const token of new Set(tokens)) {
      const known = this.recent.get(this.key(scope, token));
      if (known === undefined) missing.push(token);
      else if (known !== UNKNOWN) found.set(token, { ...known });
    }
    if (missing.length === 0) return found;
    const changesBefore = this.changes;
    const fresh = await this.fresh(scope, missing);
    const keep = this.changes === changesBefore;
    for (const token of missing) {
      const counts = fresh.get(token);
      if (keep) this.recent.set(this.key(scope, token), counts ? { ...counts } : UNKNOWN);
      if (counts) found.set(token, counts);
    }
    return found;
  }

  /** Counts as Cassandra has them now (what an unlearn must decrement from). */
  async fresh(scope: string, tokens: readonly string[]): Promise<Map<string, BayesCounts>> {
    const found = new Map<string, BayesCounts>();
    await mapLimit(packReads(byBucket(tokens, this.bucketOf)), READS_IN_FLIGHT, async ({ buckets, terms }) => {
      const result = await this.session.execute(this.sql.lookup, [scope, buckets, terms], { idempotent: true });
      for (const row of result.rows) {
        const counts = { spam: Math.max(0, toNumber(row.get('spam'))), ham: Math.max(0, toNumber(row.get('ham'))) };
        if (counts.spam > 0 || counts.ham > 0) found.set(row.get('term') as string, counts);
      }
    });
    return found;
  }

  /** Forgets the kept counts of tokens this node just changed. */
  forget(scope: string, tokens: readonly string[]): void {
    this.changes++;
    for (const token of tokens) this.recent.delete(this.key(scope, token));
  }

  /** Forgets every kept count of a scope (dropped with its mailbox). */
  forgetScope(scope: string): void {
    this.changes++;
    this.epochs.set(scope, (this.epochs.get(scope) ?? 0) + 1);
  }

  private key(scope: string, token: string): string {
    return `${scope}\n${this.epochs.get(scope) ?? 0}\n${token}`;
  }
}

/** One read: these buckets, asked for these terms. */
interface TokenRead {
  buckets: number[];
  terms: string[];
}

/** Tokens grouped by their bucket, buckets in ascending order. */
export function byBucket(tokens: readonly string[], bucketOf: (token: string) => number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const token of new Set(tokens)) {
    const bucket = bucketOf(token);
    const list = groups.get(bucket);
    if (list) list.push(token);
    else groups.set(bucket, [token]);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}

/**
 * Packs buckets into reads while buckets × terms stays within NAMES_PER_READ; a bucket with more
 * terms than that is read alone, its terms split so that each read stays within the limit.
 */
export function packReads(groups: Map<number, string[]>): TokenRead[] {
  const reads: TokenRead[] = [];
  let current: TokenRead = { buckets: [], terms: [] };
  for (const [bucket, terms] of groups) {
    const buckets = current.buckets.length + 1;
    if (current.buckets.length > 0 && buckets * (current.terms.length + terms.length) > NAMES_PER_READ) {
      reads.push(current);
      current = { buckets: [], terms: [] };
    }
    if (terms.length > NAMES_PER_READ) {
      for (let i = 0; i < terms.length; i += NAMES_PER_READ) reads.push({ buckets: [bucket], terms: terms.slice(i, i + NAMES_PER_READ) });
      continue;
    }
    current.buckets.push(bucket);
    current.terms.push(...terms);
  }
  if (current.buckets.length > 0) reads.push(current);
  return reads;
}
