/**
 * The statistics of the filter: Robinson's token probability f(w) and Fisher's method of
 * combining them through the inverse chi-square (as in SpamBayes' chi2_spamprob).
 */
import type { BayesCounts } from '../../src/plugin-api.js';

/** Parameters of {@link tokenProbability} and {@link selectClues}. */
export interface RobinsonParams {
  /** Strength of the prior: how many sightings the assumed probability `x` is worth. */
  s: number;
  /** Probability assumed for a token never seen. */
  x: number;
  /** Tokens with |f(w) − 0.5| below this are not evidence. */
  minStrength: number;
  /** Most clues used, strongest first. */
  maxClues: number;
}

/** One token used as evidence, with its probability and its counts. */
export interface Clue {
  token: string;
  probability: number;
  spam: number;
  ham: number;
}

/**
 * Robinson's f(w) = (s·x + n·p(w)) / (s + n), where p(w) = b / (b + g) with b and g the shares
 * of spam and ham messages containing w, and n the number of messages containing it. With no
 * sightings f(w) is x; many sightings pull it to p(w).
 */
export function tokenProbability(counts: BayesCounts, totals: BayesCounts, s: number, x: number): number {
  const b = totals.spam > 0 ? Math.min(1, counts.spam / totals.spam) : 0;
  const g = totals.ham > 0 ? Math.min(1, counts.ham / totals.ham) : 0;
  const n = counts.spam + counts.ham;
  if (n === 0 || b + g === 0) return x;
  const p = b / (b + g);
  return (s * x + n * p) / (s + n);
}

/**
 * The survival function of chi-square with `v` (even) degrees of freedom at `x2`: the chance a
 * value at least this large arises at random. Summed in log space so large arguments neither
 * underflow early nor overflow.
 */
export function chi2Q(x2: number, v: number): number {
  if (!(v > 0) || v % 2 !== 0) throw new RangeError(`chi2Q: degrees of freedom must be even and positive, got ${v}`);
  if (x2 <= 0) return 1;
  const m = x2 / 2;
  const logM = Math.log(m);
  let logTerm = -m;
  let sum = Math.exp(logTerm);
  for (let i = 1; i < v / 2; i++) {
    logTerm += logM - Math.log(i);
    sum += Math.exp(logTerm);
  }
  return Math.min(sum, 1);
}

/**
 * Fisher's combining of token probabilities into one spam probability in [0, 1]:
 * S = 1 − Q(−2 Σ ln(1 − f), 2n), H = 1 − Q(−2 Σ ln f, 2n), result (1 + S − H) / 2.
 * Strong evidence both ways lands near 0.5, which is what makes the unsure band useful.
 * No clues at all is 0.5.
 */
export function fisherCombine(probabilities: readonly number[]): number {
  const n = probabilities.length;
  if (n === 0) return 0.5;
  let sumLnSpam = 0;
  let sumLnHam = 0;
  for (const f of probabilities) {
    sumLnSpam += Math.log(1 - f);
    sumLnHam += Math.log(f);
  }
  const S = 1 - chi2Q(-2 * sumLnSpam, 2 * n);
  const H = 1 - chi2Q(-2 * sumLnHam, 2 * n);
  return (1 + S - H) / 2;
}

/**
 * The clues of a message: every token's f(w), those at least `minStrength` away from 0.5, the
 * strongest `maxClues` of them (ties broken by token, so the result does not depend on order).
 */
export function selectClues(
  tokens: readonly string[],
  counts: ReadonlyMap<string, BayesCounts>,
  totals: BayesCounts,
  params: RobinsonParams,
): Clue[] {
  const clues: Clue[] = [];
  for (const token of new Set(tokens)) {
    const c = counts.get(token);
    if (!c) continue;
    const probability = tokenProbability(c, totals, params.s, params.x);
    if (Math.abs(probability - 0.5) >= params.minStrength) clues.push({ token, probability, spam: c.spam, ham: c.ham });
  }
  clues.sort(
    (a, b) =>
      Math.abs(b.probability - 0.5) - Math.abs(a.probability - 0.5) || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0),
  );
  return clues.slice(0, params.maxClues);
}
