import { InputError } from '../errors.js';
import type { BayesLearning } from './types.js';

// Input rules every MessageStore adapter applies alike; the contract suite holds each to them.

/** Longest folder name accepted: IMAP servers commonly cap mailbox names near this. */
const MAX_FOLDER_CHARS = 255;
/** Most levels in a folder path (`a/b/c` is three). */
const MAX_FOLDER_LEVELS = 10;
/** The hierarchy separator of folder names, fixed (as IMAP LIST would announce it). */
export const FOLDER_SEPARATOR = '/';
/** Characters IMAP clients trip over in names: quoting, escaping and the LIST wildcards. */
const FOLDER_FORBIDDEN = /["\\*%]/;

/**
 * The one spelling of a folder name: INBOX in any case is INBOX (RFC 3501 §5.1), also as the
 * first level of a path (`inbox/Lists` → `INBOX/Lists`); other names keep their case.
 */
export function canonicalFolder(folder: string): string {
  const name = folder.trim();
  const first = name.split(FOLDER_SEPARATOR, 1)[0];
  return first.toUpperCase() === 'INBOX' ? `INBOX${name.slice(first.length)}` : name;
}

/**
 * A folder name: not empty, no control characters, none of `"` `\` `*` `%`, levels separated by
 * `/` with no empty, `.` or `..` level, at most 10 levels and 255 characters. Returns it canonical.
 */
export function checkFolder(folder: string): string {
  const name = typeof folder === 'string' ? canonicalFolder(folder) : '';
  if (name === '') throw new InputError('folder: the folder name is empty');
  if (name.length > MAX_FOLDER_CHARS) throw new InputError(`folder: longer than ${MAX_FOLDER_CHARS} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InputError(`folder: "${name.replace(/[\u0000-\u001f\u007f]/g, '?')}" contains a control character`);
  if (FOLDER_FORBIDDEN.test(name)) throw new InputError(`folder: "${name}" contains one of " \\ * %`);
  const levels = name.split(FOLDER_SEPARATOR);
  if (levels.some((level) => level.trim() === '' || level === '.' || level === '..')) {
    throw new InputError(`folder: "${name}" has an empty, "." or ".." level (levels are separated by "${FOLDER_SEPARATOR}")`);
  }
  if (levels.length > MAX_FOLDER_LEVELS) throw new InputError(`folder: "${name}" is more than ${MAX_FOLDER_LEVELS} levels deep`);
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
