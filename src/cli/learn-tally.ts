import type { BayesLearnResult } from '../store/types.js';

/** Tally of a training run, by what the store did with each message. */
export interface LearnTally {
  /** Messages learned for the first time. */
  learned: number;
  /** Messages that held the other label and were moved over. */
  relearned: number;
  /** Messages that already held the label: nothing counted. */
  already: number;
}

/** Adds one message's outcome to a tally; the first scope (the mailbox's, or global) decides. */
export function tally(into: LearnTally, results: BayesLearnResult[]): void {
  const first = results[0];
  if (!first || !first.changed) into.already++;
  else if (first.previous) into.relearned++;
  else into.learned++;
}
