import type { z } from 'zod';
import type { ConfigProblem } from './config-source.js';
import { keysAt } from './schema-walk.js';

/** Keys longer than this are never close to a real one; it also bounds the distance work. */
const MAX_COMPARED = 64;

/**
 * The schema's complaints as problems, one per key: an unknown key gets "did you mean …" when a
 * known key at the same level is within two edits of it.
 */
export function schemaProblems(error: z.ZodError, schema: z.ZodType): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path as (string | number)[]);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        problems.push({
          path: [...(issue.path as (string | number)[]), key],
          message: `unknown key${guess ? ` (did you mean ${guess}?)` : ''}`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A union (e.g. the replication strategies) fails for every branch; the last branch tried
      // explains it well enough without listing them all.
      const last = issue.errors[issue.errors.length - 1][0];
      if (last) {
        problems.push({ path: [...(issue.path as (string | number)[]), ...(last.path as (string | number)[])], message: last.message });
        continue;
      }
    }
    problems.push({ path: issue.path as (string | number)[], message: issue.message });
  }
  return problems;
}

/** The known key nearest to `key` within two edits (case ignored), or undefined. */
export function closest(key: string, known: readonly string[]): string | undefined {
  if (key.length > MAX_COMPARED) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent swaps counted as one edit (`prot` → `port`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0][j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}
