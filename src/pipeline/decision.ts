import type { ScoringConfig } from '../config/schema.js';
import { REPLIES, replyCodes } from '../mail/replies.js';
import type { RecipientState, Transaction } from './types.js';

/** The thresholds one recipient's copy is judged by: the global ones, or its mailbox's override. */
export interface Thresholds {
  addHeader: number;
  junk: number;
  /** null: no tempfail band. */
  tempfail: number | null;
  reject: number;
  junkFolder: string;
  /** `mailbox` when `scoring.mailboxes` had an entry for the recipient. */
  source: 'default' | 'mailbox';
}

/** What the scorer decided for one recipient's copy, from the evidence plugins reported. */
export interface Decision {
  score: number;
  /** Spam verdict by threshold: below addHeader → ham; tempfail → REPLIES.spamDeferred; reject → REPLIES.spamRejected. */
  spam: 'ham' | 'flagged' | 'junk' | 'tempfail' | 'reject';
  folder: string;
  tags: string[];
  importance: number;
  /** Headers the decision adds (X-Spam-*). */
  headers: [string, string][];
  thresholds: Thresholds;
  /** Score per plugin that reported one (non-zero), in report order: what the total is made of. */
  contributions: { plugin: string; score: number }[];
}

const INBOX = 'INBOX';
const round = (n: number): number => Math.round(n * 100) / 100;

/** The thresholds for a recipient: `scoring.mailboxes[address]` over the global keys. */
export function thresholdsFor(scoring: ScoringConfig, recipient?: RecipientState): Thresholds {
  const base: Thresholds = {
    addHeader: scoring.addHeader,
    junk: scoring.junk,
    tempfail: scoring.tempfail,
    reject: scoring.reject,
    junkFolder: scoring.junkFolder,
    source: 'default',
  };
  if (!recipient) return base;
  const wanted = [recipient.mailbox.address, recipient.address].map((a) => a.toLowerCase());
  const key = Object.keys(scoring.mailboxes).find((k) => wanted.includes(k.toLowerCase()));
  if (key === undefined) return base;
  const override = scoring.mailboxes[key];
  return {
    addHeader: override.addHeader ?? base.addHeader,
    junk: override.junk ?? base.junk,
    tempfail: override.tempfail !== undefined ? override.tempfail : base.tempfail,
    reject: override.reject ?? base.reject,
    junkFolder: override.junkFolder ?? base.junkFolder,
    source: 'mailbox',
  };
}

/** Sums what the plugins reported: score (and its parts), tags, first folder, importance. */
function collect(transaction: Transaction) {
  let score = 0;
  let importance = 0;
  let folder: string | undefined;
  const tags = new Set<string>();
  const byPlugin = new Map<string, number>();
  for (const { plugin, finding } of transaction.findings) {
    score += finding.score ?? 0;
    importance += finding.importance ?? 0;
    for (const tag of finding.tags ?? []) tags.add(tag);
    folder ??= finding.folder;
    if (finding.score) byPlugin.set(plugin, (byPlugin.get(plugin) ?? 0) + finding.score);
  }
  const contributions = [...byPlugin].map(([plugin, s]) => ({ plugin, score: round(s) })).filter((c) => c.score !== 0);
  return { score: round(score), importance, folder, tags, contributions };
}

/**
 * The one scorer: sums plugin scores, maps them onto the thresholds of the recipient (its
 * mailbox's override, else the global ones), and merges classification (tags, folder,
 * importance). Plugins only report; this decides. Without a recipient the global thresholds hold.
 */
export function decide(transaction: Transaction, scoring: ScoringConfig, recipient?: RecipientState): Decision {
  const { score, importance, folder, tags, contributions } = collect(transaction);
  const thresholds = thresholdsFor(scoring, recipient);
  const spam = spamLevel(score, thresholds);
  const junked = spam === 'junk' || spam === 'tempfail' || spam === 'reject';
  if (junked) tags.add('spam');
  const headers: [string, string][] = [
    ['X-Spam-Score', score.toFixed(2)],
    ['X-Spam-Status', `${spam === 'ham' ? 'No' : 'Yes'}, score=${score.toFixed(2)} required=${thresholds.addHeader.toFixed(2)}`],
  ];
  return {
    score,
    spam,
    folder: junked ? thresholds.junkFolder : (folder ?? INBOX),
    tags: [...tags].sort(),
    importance: Math.max(-10, Math.min(10, Math.round(importance))),
    headers,
    thresholds,
    contributions,
  };
}

function spamLevel(score: number, t: Thresholds): Decision['spam'] {
  if (score >= t.reject) return 'reject';
  if (t.tempfail !== null && score >= t.tempfail) return 'tempfail';
  if (score >= t.junk) return 'junk';
  if (score >= t.addHeader) return 'flagged';
  return 'ham';
}

/**
 * The scorer's ledger reason, short enough for `message show --ledger`'s column:
 * "junk → Junk; add 5 junk 8 reject 15" (+ "tempfail N" when set, "(mailbox)" for an override;
 * "reject" or "tempfail" and the reply's codes when the copy is refused).
 */
export function describeDecision(d: Decision): string {
  const t = d.thresholds;
  const bands = [`add ${t.addHeader}`, `junk ${t.junk}`, ...(t.tempfail !== null ? [`tempfail ${t.tempfail}`] : []), `reject ${t.reject}`];
  const outcome =
    d.spam === 'reject'
      ? `reject ${replyCodes(REPLIES.spamRejected)}`
      : d.spam === 'tempfail'
        ? `tempfail ${replyCodes(REPLIES.spamDeferred)}`
        : `${d.spam} → ${d.folder}`;
  return `${outcome}; ${bands.join(' ')}${t.source === 'mailbox' ? ' (mailbox)' : ''}`;
}
