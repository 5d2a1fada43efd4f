import { createHash } from 'node:crypto';
import type { ParsedMessage } from '../../src/plugin-api.js';
import type { BayesTokenStore } from '../../src/plugin-api.js';
import { BAYES_GLOBAL_SCOPE, type BayesLabel, type BayesLearnResult } from '../../src/plugin-api.js';
import type { BayesConfig } from './config.js';
import { loadTokenizer, tokenize } from './tokenizer.js';

/**
 * The scopes a lesson goes to: the global scope for mail that belongs to no mailbox (files given
 * to `hermod spam train`); for a mailbox's message, that mailbox and — unless
 * `mailbox.learnGlobal` is off — the global scope too, so a correction helps at once rather than
 * after the mailbox has learned enough to be used on its own.
 */
export function learnScopes(mailboxId: string | null, config: Pick<BayesConfig, 'mailbox'>): string[] {
  if (mailboxId === null) return [BAYES_GLOBAL_SCOPE];
  return config.mailbox.learnGlobal ? [mailboxId, BAYES_GLOBAL_SCOPE] : [mailboxId];
}

/** One message to learn: its parsed form (from the parse plugin) and its raw bytes. */
export interface Lesson {
  parsed: ParsedMessage;
  raw: Buffer;
  /** The mailbox it belongs to, or null for mail from outside the store. */
  mailboxId: string | null;
  /** The label it holds from now on; null forgets it. */
  label: BayesLabel | null;
}

/**
 * Teaches the store one message with the same tokenizer the plugin classifies with. The store
 * counts a message once per scope and label (by SHA-256), so learning it again is a no-op and
 * learning it with the other label moves its counts over.
 */
export async function learnMessage(
  store: BayesTokenStore,
  lesson: Lesson,
  config: Pick<BayesConfig, 'mailbox' | 'tokenizer'>,
): Promise<BayesLearnResult[]> {
  await loadTokenizer();
  const tokens = await tokenize(lesson.parsed, lesson.raw, config.tokenizer);
  const sha256 = createHash('sha256').update(lesson.raw).digest('hex');
  return store.bayesLearn({ scopes: learnScopes(lesson.mailboxId, config), sha256, tokens, label: lesson.label });
}
