/** Confusion counts and the rates the evaluation reports. Spam is the positive class. */
import type { Group, Label } from './corpus.js';

/** What an engine said about one message. */
export interface Prediction {
  spam: boolean;
  /** Inside the engine's unsure band (counted as not spam). */
  unsure?: boolean;
  score?: number;
}

/** Counts for one engine on one fold. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  unsure: number;
  /** False positives per group (easy ham vs hard ham), where the harm is. */
  fpByGroup: Partial<Record<Group, number>>;
  hamByGroup: Partial<Record<Group, number>>;
}

/** The rates of one confusion. */
export interface Rates {
  fpRate: number;
  fnRate: number;
  precision: number;
  recall: number;
  f1: number;
  unsureRate: number;
}

export function emptyConfusion(): Confusion {
  return { tp: 0, fp: 0, tn: 0, fn: 0, unsure: 0, fpByGroup: {}, hamByGroup: {} };
}

/** Counts one prediction against the truth. */
export function record(c: Confusion, truth: Label, group: Group, p: Prediction): void {
  if (p.unsure) c.unsure++;
  if (truth === 'spam') {
    if (p.spam) c.tp++;
    else c.fn++;
    return;
  }
  c.hamByGroup[group] = (c.hamByGroup[group] ?? 0) + 1;
  if (p.spam) {
    c.fp++;
    c.fpByGroup[group] = (c.fpByGroup[group] ?? 0) + 1;
  } else c.tn++;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

export function rates(c: Confusion): Rates {
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  return {
    fpRate: ratio(c.fp, c.fp + c.tn),
    fnRate: ratio(c.fn, c.fn + c.tp),
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    unsureRate: ratio(c.unsure, c.tp + c.fp + c.tn + c.fn),
  };
}

/** The per-fold mean of each rate. */
export function meanRates(perFold: readonly Rates[]): Rates {
  const keys: (keyof Rates)[] = ['fpRate', 'fnRate', 'precision', 'recall', 'f1', 'unsureRate'];
  const out = {} as Rates;
  for (const k of keys) out[k] = ratio(perFold.reduce((s, r) => s + r[k], 0), perFold.length);
  return out;
}

/** Sums confusions (all folds together). */
export function sumConfusions(list: readonly Confusion[]): Confusion {
  const out = emptyConfusion();
  for (const c of list) {
    out.tp += c.tp;
    out.fp += c.fp;
    out.tn += c.tn;
    out.fn += c.fn;
    out.unsure += c.unsure;
    for (const [g, n] of Object.entries(c.fpByGroup)) out.fpByGroup[g as Group] = (out.fpByGroup[g as Group] ?? 0) + n;
    for (const [g, n] of Object.entries(c.hamByGroup)) out.hamByGroup[g as Group] = (out.hamByGroup[g as Group] ?? 0) + n;
  }
  return out;
}
