import { StoreError } from '../../errors.js';
import type { BayesCounts, BayesLabel, BayesLearning, BayesLearnResult } from '../types.js';
import { mapLimit, type BatchStatement, type CassandraSession } from './cassandra-session.js';
import { checkLearning } from '../input-checks.js';
import { toNumber } from './row-mappers.js';
import { BAYES_BUCKETS } from './schema.js';
import { RecentValues } from './recent-values.js';
import { BayesTokenReads, byBucket, DEFAULT_BAYES_TOKENS_CACHE_MS } from './bayes-token-reads.js';

/**
 * Partitions per counter batch of a learn: a message's tokens fall in up to 256 partitions, one
 * request each until several shared a batch. Cassandra warns about unlogged batches over 10
 * partitions (unlogged_batch_across_partitions_warn_threshold) and over 5 KiB.
 */
const PARTITIONS_PER_BATCH = 10;
const STATEMENTS_PER_BATCH = 64;
/** How often a learn re-reads and retries when another learn of the same message got in first. */
const LEARN_ATTEMPTS = 5;
/** How long a scope's totals are served from memory (store.cassandra.bayesTotalsCacheMs). */
export const DEFAULT_BAYES_TOTALS_CACHE_MS = 5000;
/** Scopes whose totals are kept at most (oldest dropped first). */
const TOTALS_CACHE_SIZE = 10_000;

/** Bucket of a token: FNV-1a over its UTF-16 code units. Part of the schema: never change it. */
export function tokenBucket(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % BAYES_BUCKETS;
}

/** Bucket of a message in `bayes_seen`: its first byte. */
function shaBucket(sha256: string): number {
  return parseInt(sha256.slice(0, 2), 16) % BAYES_BUCKETS;
}

/**
 * Bayes token statistics in Cassandra. Counts are counter columns; the label a message holds
 * per scope changes only through a lightweight transaction, and only the call whose transaction
 * applied touches the counters, so a replayed learn is counted once. Counts below zero (an
 * unlearn of a token a message did not have) are avoided by decrementing only counts above zero,
 * and read as zero should two unlearns race.
 */
export class BayesTokens {
  private readonly sql: Record<string, string>;
  /** Totals read lately, by scope (see totals). */
  private readonly recentTotals: RecentValues<BayesCounts>;
  /** Token counts, read in packed requests and kept for a short while. */
  private readonly tokenReads: BayesTokenReads;

  constructor(
    private readonly session: CassandraSession,
    /** How long totals are served from memory; 0: never. */
    totalsCacheMs = DEFAULT_BAYES_TOTALS_CACHE_MS,
    /** How long token counts are served from memory; 0: never. */
    tokensCacheMs = DEFAULT_BAYES_TOKENS_CACHE_MS,
  ) {
    this.recentTotals = new RecentValues(totalsCacheMs, TOTALS_CACHE_SIZE);
    this.tokenReads = new BayesTokenReads(session, tokenBucket, tokensCacheMs);
    const t = (name: string) => session.table(name);
    this.sql = {
      totals: `SELECT spam, ham FROM ${t('bayes_totals')} WHERE scope = ?`,
      seen: `SELECT label FROM ${t('bayes_seen')} WHERE scope = ? AND bucket = ? AND sha256 = ?`,
      remember: `INSERT INTO ${t('bayes_seen')} (scope, bucket, sha256, label, learned_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
      relabel: `UPDATE ${t('bayes_seen')} SET label = ?, learned_at = ? WHERE scope = ? AND bucket = ? AND sha256 = ? IF label = ?`,
      forget: `DELETE FROM ${t('bayes_seen')} WHERE scope = ? AND bucket = ? AND sha256 = ? IF label = ?`,
      spam: `UPDATE ${t('bayes_tokens')} SET spam = spam + ? WHERE scope = ? AND bucket = ? AND term = ?`,
      ham: `UPDATE ${t('bayes_tokens')} SET ham = ham + ? WHERE scope = ? AND bucket = ? AND term = ?`,
      totalSpam: `UPDATE ${t('bayes_totals')} SET spam = spam + ? WHERE scope = ?`,
      totalHam: `UPDATE ${t('bayes_totals')} SET ham = ham + ? WHERE scope = ?`,
      dropTokens: `DELETE FROM ${t('bayes_tokens')} WHERE scope = ? AND bucket = ?`,
      dropSeen: `DELETE FROM ${t('bayes_seen')} WHERE scope = ? AND bucket = ?`,
      dropTotals: `DELETE FROM ${t('bayes_totals')} WHERE scope = ?`,
    };
  }

  /**
   * Counts of the tokens that the scope knows (a token at 0/0 is unknown again), in a few
   * packed reads, and served from memory for `tokensCacheMs` (bayes-token-reads.ts).
   */
  lookup(scope: string, tokens: readonly string[]): Promise<Map<string, BayesCounts>> {
    return this.tokenReads.lookup(scope, tokens);
  }

  /**
   * The scope's totals. Every message classified reads the global and its mailbox's totals, and
   * they move only when something is learned, so a read is served again for `totalsCacheMs`:
   * a learn made on another node shows in them that much later (its token counts show at once,
   * and the classifier caps a token's share at 1, so the lag shifts probabilities only slightly).
   * A learn or a drop through this instance forgets the scope at once.
   */
  async totals(scope: string): Promise<BayesCounts> {
    const cached = this.recentTotals.get(scope);
    if (cached) return { ...cached };
    const counts = await this.freshTotals(scope);
    this.recentTotals.set(scope, counts);
    return { ...counts };
  }

  /** The totals as Cassandra has them now. */
  private async freshTotals(scope: string): Promise<BayesCounts> {
    const row = (await this.session.execute(this.sql.totals, [scope], { idempotent: true })).first();
    return { spam: Math.max(0, toNumber(row?.get('spam'))), ham: Math.max(0, toNumber(row?.get('ham'))) };
  }

  /** The label as of the last committed learn (a Paxos read). */
  async label(scope: string, sha256: string): Promise<BayesLabel | null> {
    const sha = String(sha256).toLowerCase();
    const row = (await this.session.serialRead(this.sql.seen, [scope, shaBucket(sha), sha])).first();
    return (row?.get('label') as BayesLabel | undefined) ?? null;
  }

  /** Learns, relearns or forgets one message in every scope given, scope by scope. */
  async learn(learning: BayesLearning): Promise<BayesLearnResult[]> {
    checkLearning(learning);
    const sha256 = learning.sha256.toLowerCase();
    const tokens = [...new Set(learning.tokens)];
    const results: BayesLearnResult[] = [];
    for (const scope of new Set(learning.scopes)) {
      try {
        results.push(await this.learnScope(scope, sha256, tokens, learning.label));
      } finally {
        this.recentTotals.delete(scope);
        this.tokenReads.forget(scope, tokens);
      }
    }
    return results;
  }

  /** Drops a scope's statistics (its mailbox was removed). */
  async dropScope(scope: string): Promise<void> {
    this.recentTotals.delete(scope);
    this.tokenReads.forgetScope(scope);
    const buckets = Array.from({ length: BAYES_BUCKETS }, (_, bucket) => bucket);
    await mapLimit(buckets, 16, async (bucket) => {
      await this.session.execute(this.sql.dropTokens, [scope, bucket], { idempotent: true });
      await this.session.execute(this.sql.dropSeen, [scope, bucket], { idempotent: true });
    });
    await this.session.execute(this.sql.dropTotals, [scope], { idempotent: true });
    this.recentTotals.delete(scope);
    this.tokenReads.forgetScope(scope);
  }

  private async learnScope(scope: string, sha256: string, tokens: string[], label: BayesLabel | null): Promise<BayesLearnResult> {
    for (let attempt = 0; attempt < LEARN_ATTEMPTS; attempt++) {
      const previous = await this.label(scope, sha256);
      if (previous === label) return { scope, previous, changed: false };
      if (!(await this.relabel(scope, sha256, previous, label))) continue;
      if (previous) await this.count(scope, tokens, previous, -1);
      if (label) await this.count(scope, tokens, label, +1);
      return { scope, previous, changed: true };
    }
    throw new StoreError(`bayesLearn: message ${sha256} is being learned concurrently in scope ${scope}; try again`);
  }

  /** Moves the message's label from `previous` to `label`; false when someone else changed it first. */
  private async relabel(scope: string, sha256: string, previous: BayesLabel | null, label: BayesLabel | null): Promise<boolean> {
    const key = [scope, shaBucket(sha256), sha256];
    const now = new Date();
    if (previous === null) return (await this.session.lwt(this.sql.remember, [...key, label, now])).applied;
    if (label === null) return (await this.session.lwt(this.sql.forget, [...key, previous])).applied;
    return (await this.session.lwt(this.sql.relabel, [label, now, ...key, previous])).applied;
  }

  /** Adds (+1) or removes (−1) one message of `label` to the tokens and the scope's totals. */
  private async count(scope: string, tokens: string[], label: BayesLabel, delta: 1 | -1): Promise<void> {
    const spam = label === 'spam';
    let targets = tokens;
    let total = true;
    if (delta < 0) {
      // Decrements follow Cassandra's counts as they are now, never counts kept in memory.
      const known = await this.tokenReads.fresh(scope, tokens);
      targets = tokens.filter((token) => (known.get(token)?.[label] ?? 0) > 0);
      total = (await this.freshTotals(scope))[label] > 0;
    }
    const perPartition = [...byBucket(targets, tokenBucket)].map(([bucket, list]) =>
      list.map((token): BatchStatement => ({ query: spam ? this.sql.spam : this.sql.ham, params: [delta, scope, bucket, token] })),
    );
    // Counter batches of a few partitions each; counter updates are never retried (not idempotent).
    await mapLimit(packPartitions(perPartition), 16, (statements) => this.session.batch(statements, 'counter'));
    if (total) await this.session.execute(spam ? this.sql.totalSpam : this.sql.totalHam, [delta, scope]);
  }
}

/**
 * Joins the statements of several partitions into counter batches of at most
 * PARTITIONS_PER_BATCH partitions and, unless one partition alone has more, STATEMENTS_PER_BATCH
 * statements. A counter batch is not atomic across partitions, and neither were separate ones.
 */
export function packPartitions(perPartition: BatchStatement[][]): BatchStatement[][] {
  const batches: BatchStatement[][] = [];
  let current: BatchStatement[] = [];
  let partitions = 0;
  for (const statements of perPartition) {
    if (partitions > 0 && (partitions === PARTITIONS_PER_BATCH || current.length + statements.length > STATEMENTS_PER_BATCH)) {
      batches.push(current);
      current = [];
      partitions = 0;
    }
    current.push(...statements);
    partitions++;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
