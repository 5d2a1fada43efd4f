import type { ScoringConfig } from '../config/schema.js';
import type { Transaction } from './types.js';

/** What the scorer decided for a message, from the evidence plugins reported. */
export interface Decision {
  score: number;
  /** Spam verdict by threshold: below addHeader → ham. */
  spam: 'ham' | 'flagged' | 'junk' | 'reject';
  folder: string;
  tags: string[];
  importance: number;
  /** Headers the decision adds (X-Spam-*). */
  headers: [string, string][];
}

const INBOX = 'INBOX';

/**
 * The one scorer: sums plugin scores, maps them onto the configured thresholds, and merges
 * classification (tags, folder, importance). Plugins only report; this decides.
 */
export function decide(transaction: Transaction, scoring: ScoringConfig): Decision {
  let score = 0;
  let importance = 0;
  let folder: string | undefined;
  const tags = new Set<string>();
  for (const { finding } of transaction.findings) {
    score += finding.score ?? 0;
    importance += finding.importance ?? 0;
    for (const tag of finding.tags ?? []) tags.add(tag);
    folder ??= finding.folder;
  }
  score = Math.round(score * 100) / 100;
  const spam = spamLevel(score, scoring);
  if (spam === 'junk' || spam === 'reject') tags.add('spam');
  const headers: [string, string][] = [
    ['X-Spam-Score', score.toFixed(2)],
    ['X-Spam-Status', `${spam === 'ham' ? 'No' : 'Yes'}, score=${score.toFixed(2)} required=${scoring.addHeader.toFixed(2)}`],
  ];
  return {
    score,
    spam,
    folder: spam === 'junk' || spam === 'reject' ? scoring.junkFolder : (folder ?? INBOX),
    tags: [...tags].sort(),
    importance: Math.max(-10, Math.min(10, Math.round(importance))),
    headers,
  };
}

function spamLevel(score: number, scoring: ScoringConfig): Decision['spam'] {
  if (score >= scoring.reject) return 'reject';
  if (score >= scoring.junk) return 'junk';
  if (score >= scoring.addHeader) return 'flagged';
  return 'ham';
}
