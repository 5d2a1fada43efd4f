import type { MessageStore } from '../store/message-store.js';
import type { BayesLabel, BayesLearnResult, Mailbox, MailboxEntry } from '../store/types.js';
import type { SpamLearner } from './spam-learning.js';

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

/**
 * Learns the raw bytes of each entry with the label, for the mailbox: the loop of
 * `spam train --mailbox A --folder F` and POST /api/v1/spam/train. Entries whose raw bytes are
 * missing are counted apart. `onEach` runs after every entry (a progress bar).
 */
export async function learnEntries(
  store: MessageStore,
  learner: SpamLearner,
  mailbox: Mailbox,
  entries: MailboxEntry[],
  label: BayesLabel,
  onEach: () => void = () => undefined,
): Promise<{ count: LearnTally; missing: number }> {
  const count: LearnTally = { learned: 0, relearned: 0, already: 0 };
  let missing = 0;
  for (const entry of entries) {
    const raw = await store.getRaw(entry.sha256);
    if (raw) tally(count, await learner.learn(raw, mailbox, label));
    else missing++;
    onEach();
  }
  return { count, missing };
}
