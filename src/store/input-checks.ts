import { InputError } from '../errors.js';
import type { BayesLearning } from './types.js';

// Input rules every MessageStore adapter applies alike; the contract suite holds each to them.

/** Longest folder name accepted: IMAP servers commonly cap mailbox names near this. */
const MAX_FOLDER_CHARS = 255;

/** A folder name: not empty, no control characters, at most 255 characters. */
export function checkFolder(folder: string): string {
  const name = typeof folder === 'string' ? folder.trim() : '';
  if (name === '') throw new InputError('folder: the folder name is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InputError(`folder: "${name}" contains a control character`);
  if (name.length > MAX_FOLDER_CHARS) throw new InputError(`folder: longer than ${MAX_FOLDER_CHARS} characters`);
  return name;
}


/** Tags: non-empty strings, trimmed, each once. */
export function checkTags(tags: readonly string[]): string[] {
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.trim() === '')) {
    throw new InputError('tags: every tag must be a non-empty string');
  }
  return [...new Set(tags.map((t) => t.trim()))];
}

/** Importance: a finite number, clamped to −10..10. */
export function checkImportance(importance: number): number {
  if (typeof importance !== 'number' || !Number.isFinite(importance)) {
    throw new InputError(`importance: ${String(importance)} is not a number`);
  }
  return Math.max(-10, Math.min(10, importance));
}

/** A learning: a SHA-256 in hex, a known label (or null), named scopes and tokens. */
export function checkLearning(learning: BayesLearning): void {
  if (!/^[0-9a-f]{64}$/i.test(String(learning.sha256))) {
    throw new InputError(`bayesLearn: sha256 "${learning.sha256}" is not a SHA-256 in hex`);
  }
  if (learning.label !== null && learning.label !== 'spam' && learning.label !== 'ham') {
    throw new InputError(`bayesLearn: label must be "spam", "ham" or null, not ${JSON.stringify(learning.label)}`);
  }
  if (learning.scopes.some((s) => typeof s !== 'string' || s === '')) {
    throw new InputError('bayesLearn: every scope must be "global" or a mailbox id');
  }
  if (learning.tokens.some((t) => typeof t !== 'string' || t === '')) {
    throw new InputError('bayesLearn: tokens must be non-empty strings');
  }
}
