import type { BayesTokenStore } from '../../src/plugin-api.js';
import { BAYES_GLOBAL_SCOPE, type BayesCounts } from '../../src/plugin-api.js';
import type { BayesConfig } from './config.js';
import { fisherCombine, selectClues, type Clue } from './robinson.js';

/** What the filter says: the band the probability falls in, or that it has not learned enough. */
export type BayesVerdict = 'spam' | 'unsure' | 'ham' | 'untrained';

/** Which statistics a classification used. */
export type StatsSource = 'global' | 'mailbox' | 'merged';

/** One classification. */
export interface BayesResult {
  verdict: BayesVerdict;
  /** Spam probability in [0, 1]; null when untrained. */
  probability: number | null;
  source: StatsSource;
  /** Messages learned in the statistics used. */
  trained: BayesCounts;
  /** Distinct tokens of the message; null when untrained (the message is then not tokenized). */
  tokens: number | null;
  /** Tokens used as evidence, strongest first. */
  clues: Clue[];
}

/** The statistics to classify with: their scopes (summed) and totals. */
export interface Stats {
  source: StatsSource;
  scopes: string[];
  totals: BayesCounts;
}

const add = (a: BayesCounts, b: BayesCounts): BayesCounts => ({ spam: a.spam + b.spam, ham: a.ham + b.ham });

/**
 * Picks the statistics for a mailbox per `mailbox.mode`: `fallback` uses the mailbox's own once
 * it has learned `mailbox.minTrained` of each label (DSPAM-like), `merge` sums mailbox and global,
 * `global` (or no mailbox) uses the global scope.
 */
export async function chooseStats(store: BayesTokenStore, mailboxId: string | null, config: BayesConfig): Promise<Stats> {
  const globalOnly = mailboxId === null || config.mailbox.mode === 'global';
  // Both totals at once: on a distributed store each read is a round trip on the delivery path.
  const [global, own] = await Promise.all([
    store.bayesTotals(BAYES_GLOBAL_SCOPE),
    globalOnly ? null : store.bayesTotals(mailboxId),
  ]);
  const globalStats: Stats = { source: 'global', scopes: [BAYES_GLOBAL_SCOPE], totals: global };
  if (mailboxId === null || own === null) return globalStats;
  if (config.mailbox.mode === 'merge') {
    if (own.spam + own.ham === 0) return globalStats;
    return { source: 'merged', scopes: [mailboxId, BAYES_GLOBAL_SCOPE], totals: add(own, global) };
  }
  const enough = own.spam >= config.mailbox.minTrained && own.ham >= config.mailbox.minTrained;
  return enough ? { source: 'mailbox', scopes: [mailboxId], totals: own } : globalStats;
}

/** Token counts summed over the scopes. */
async function lookupAll(store: BayesTokenStore, scopes: string[], tokens: string[]): Promise<Map<string, BayesCounts>> {
  if (scopes.length === 1) return store.bayesLookup(scopes[0], tokens);
  const sum = new Map<string, BayesCounts>();
  // The scopes are read at once, as the totals are: each is its own round trip.
  for (const found of await Promise.all(scopes.map((scope) => store.bayesLookup(scope, tokens)))) {
    for (const [token, counts] of found) {
      sum.set(token, add(sum.get(token) ?? { spam: 0, ham: 0 }, counts));
    }
  }
  return sum;
}

/** The band a probability falls in. */
export function verdictOf(probability: number, config: Pick<BayesConfig, 'unsureLow' | 'unsureHigh'>): BayesVerdict {
  if (probability >= config.unsureHigh) return 'spam';
  if (probability <= config.unsureLow) return 'ham';
  return 'unsure';
}

/** The score for a probability on the configured scale (linear between its points); null (untrained) scores 0. */
export function scoreOf(probability: number | null, config: Pick<BayesConfig, 'scale'>): number {
  if (probability === null) return 0;
  const points = config.scale;
  if (probability <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [p1, s1] = points[i];
    if (probability <= p1) {
      const [p0, s0] = points[i - 1];
      return Math.round((s0 + ((probability - p0) / (p1 - p0)) * (s1 - s0)) * 100) / 100;
    }
  }
  return points[points.length - 1][1];
}

/** Bands named as SpamAssassin names its Bayes rules, for the ledger and the rule tables. */
const BANDS: ReadonlyArray<[number, string]> = [
  [0.01, 'BAYES_00'], [0.05, 'BAYES_05'], [0.2, 'BAYES_20'], [0.4, 'BAYES_40'], [0.6, 'BAYES_50'],
  [0.8, 'BAYES_60'], [0.95, 'BAYES_80'], [0.99, 'BAYES_95'], [0.999, 'BAYES_99'],
];

/** The band of a probability: BAYES_00 (below 0.01) … BAYES_999 (0.999 and up). */
export function bandOf(probability: number): string {
  for (const [below, name] of BANDS) if (probability < below) return name;
  return 'BAYES_999';
}

/**
 * Classifies a message's tokens with the statistics chosen for the mailbox (null: global).
 * Until those statistics hold `minTrained` spam and ham messages the verdict is `untrained`.
 */
export async function classifyTokens(
  store: BayesTokenStore,
  tokens: string[],
  mailboxId: string | null,
  config: BayesConfig,
): Promise<BayesResult> {
  return classifyWith(store, tokens, await chooseStats(store, mailboxId, config), config);
}

/** Whether the statistics hold too few messages of a label to be used. */
export function isUntrained(stats: Stats, config: Pick<BayesConfig, 'minTrained'>): boolean {
  return stats.totals.spam < config.minTrained || stats.totals.ham < config.minTrained;
}

/**
 * Classifies with statistics already chosen (several recipients may share them). `tokens` may be
 * a function that tokenizes on first call: untrained statistics never use the tokens, and
 * tokenizing is most of the filter's cost on a small message.
 */
export async function classifyWith(
  store: BayesTokenStore,
  tokensOf: string[] | (() => Promise<string[]>),
  stats: Stats,
  config: BayesConfig,
): Promise<BayesResult> {
  const base = { source: stats.source, trained: stats.totals };
  if (isUntrained(stats, config)) {
    return { ...base, tokens: null, verdict: 'untrained', probability: null, clues: [] };
  }
  const tokens = typeof tokensOf === 'function' ? await tokensOf() : tokensOf;
  const counts = await lookupAll(store, stats.scopes, tokens);
  const clues = selectClues(tokens, counts, stats.totals, config);
  const probability = fisherCombine(clues.map((c) => c.probability));
  return { ...base, tokens: tokens.length, verdict: verdictOf(probability, config), probability, clues };
}
