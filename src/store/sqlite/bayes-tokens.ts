import type Database from 'better-sqlite3';
import type { BayesCounts, BayesLabel, BayesLearning, BayesLearnResult } from '../types.js';
import { checkLearning } from '../input-checks.js';

/** Tokens looked up per statement: json_each keeps it one statement, chunks keep it small. */
const LOOKUP_CHUNK = 500;

/**
 * Bayes token statistics in SQLite: per-scope token counts, per-scope totals and the label each
 * learned message holds. One `learn` call is one transaction over all its scopes.
 */
export class BayesTokens {
  private readonly sql: Record<string, Database.Statement>;
  private readonly learnTx: (learning: BayesLearning) => BayesLearnResult[];

  constructor(private readonly db: Database.Database) {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      // Rows as arrays (raw): one lookup returns a row per known token, hundreds per message,
      // and an array is cheaper to build than an object with named fields.
      lookup: p(
        `SELECT token, spam, ham FROM bayes_tokens
         WHERE scope = ? AND token IN (SELECT value FROM json_each(?))`,
      ).raw(true),
      totals: p('SELECT spam, ham FROM bayes_totals WHERE scope = ?'),
      seen: p('SELECT label FROM bayes_seen WHERE scope = ? AND sha256 = ?'),
      remember: p(
        `INSERT INTO bayes_seen (scope, sha256, label, learned_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, sha256) DO UPDATE SET label = excluded.label, learned_at = excluded.learned_at`,
      ),
      forget: p('DELETE FROM bayes_seen WHERE scope = ? AND sha256 = ?'),
      addSpam: p(
        `INSERT INTO bayes_tokens (scope, token, spam, ham) VALUES (?, ?, 1, 0)
         ON CONFLICT (scope, token) DO UPDATE SET spam = spam + 1`,
      ),
      addHam: p(
        `INSERT INTO bayes_tokens (scope, token, spam, ham) VALUES (?, ?, 0, 1)
         ON CONFLICT (scope, token) DO UPDATE SET ham = ham + 1`,
      ),
      dropSpam: p('UPDATE bayes_tokens SET spam = MAX(0, spam - 1) WHERE scope = ? AND token = ?'),
      dropHam: p('UPDATE bayes_tokens SET ham = MAX(0, ham - 1) WHERE scope = ? AND token = ?'),
      // A token no message holds any more is dead weight in every lookup.
      prune: p('DELETE FROM bayes_tokens WHERE scope = ? AND token = ? AND spam = 0 AND ham = 0'),
      ensureTotals: p('INSERT OR IGNORE INTO bayes_totals (scope, spam, ham) VALUES (?, 0, 0)'),
      bumpTotals: p('UPDATE bayes_totals SET spam = MAX(0, spam + ?), ham = MAX(0, ham + ?) WHERE scope = ?'),
      dropScopeTokens: p('DELETE FROM bayes_tokens WHERE scope = ?'),
      dropScopeTotals: p('DELETE FROM bayes_totals WHERE scope = ?'),
      dropScopeSeen: p('DELETE FROM bayes_seen WHERE scope = ?'),
    };
    const tx = db.transaction((learning: BayesLearning) => this.learnAll(learning));
    // IMMEDIATE: the "what did this message hold" read and the count updates see one state.
    this.learnTx = (learning) => tx.immediate(learning);
  }

  /** Counts of the tokens that the scope knows. */
  lookup(scope: string, tokens: readonly string[]): Map<string, BayesCounts> {
    const found = new Map<string, BayesCounts>();
    const unique = [...new Set(tokens)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const chunk = JSON.stringify(unique.slice(i, i + LOOKUP_CHUNK));
      for (const [token, spam, ham] of this.sql.lookup.all(scope, chunk) as [string, number, number][]) {
        found.set(token, { spam, ham });
      }
    }
    return found;
  }

  totals(scope: string): BayesCounts {
    const row = this.sql.totals.get(scope) as BayesCounts | undefined;
    return row ? { spam: row.spam, ham: row.ham } : { spam: 0, ham: 0 };
  }

  label(scope: string, sha256: string): BayesLabel | null {
    const row = this.sql.seen.get(scope, String(sha256).toLowerCase()) as { label: BayesLabel } | undefined;
    return row?.label ?? null;
  }

  /** Learns, relearns or forgets one message in every scope given, in one transaction. */
  learn(learning: BayesLearning): BayesLearnResult[] {
    checkLearning(learning);
    return this.learnTx({ ...learning, sha256: learning.sha256.toLowerCase() });
  }

  /** Drops a scope's statistics (its mailbox was removed); call inside that transaction. */
  dropScope(scope: string): void {
    this.sql.dropScopeTokens.run(scope);
    this.sql.dropScopeTotals.run(scope);
    this.sql.dropScopeSeen.run(scope);
  }

  private learnAll(learning: BayesLearning): BayesLearnResult[] {
    const tokens = [...new Set(learning.tokens)];
    const now = Date.now();
    return [...new Set(learning.scopes)].map((scope) => {
      const previous = this.label(scope, learning.sha256);
      if (previous === learning.label) return { scope, previous, changed: false };
      if (previous) this.count(scope, tokens, previous, -1);
      if (learning.label) {
        this.count(scope, tokens, learning.label, +1);
        this.sql.remember.run(scope, learning.sha256, learning.label, now);
      } else {
        this.sql.forget.run(scope, learning.sha256);
      }
      return { scope, previous, changed: true };
    });
  }

  /** Adds (+1) or removes (−1) one message of `label` to the tokens and the scope's totals. */
  private count(scope: string, tokens: readonly string[], label: BayesLabel, delta: 1 | -1): void {
    const spam = label === 'spam';
    if (delta > 0) {
      const add = spam ? this.sql.addSpam : this.sql.addHam;
      for (const token of tokens) add.run(scope, token);
    } else {
      const drop = spam ? this.sql.dropSpam : this.sql.dropHam;
      for (const token of tokens) {
        drop.run(scope, token);
        this.sql.prune.run(scope, token);
      }
    }
    this.sql.ensureTotals.run(scope);
    this.sql.bumpTotals.run(spam ? delta : 0, spam ? 0 : delta, scope);
  }
}
