/**
 * `hermod spam report`: what users' corrections say about the filter. A move into the junk folder
 * is spam the filter let through (a false negative caught); a move out of it is wanted mail the
 * filter junked (a false positive caught). Moves are read from the ledger (`operator`/`move`
 * lines that `hermod message move` writes), counted per mailbox and ISO week of the move.
 */
import type { LedgerLine, MailboxEntry } from '../store/types.js';

/** One move read from a ledger. */
export interface JunkMove {
  /** When it was moved (older ledgers without a time: when the message arrived). */
  at: Date;
  kind: 'falsePositive' | 'falseNegative';
}

/** One row of the report. */
export interface ReportRow {
  mailbox: string;
  /** ISO week of the moves and arrivals counted, e.g. 2026-W49. */
  week: string;
  /** Messages that arrived that week. */
  received: number;
  /** Moved into Junk: spam the filter missed. */
  falseNegatives: number;
  /** Moved out of Junk: wanted mail the filter junked. */
  falsePositives: number;
}

/** The ISO 8601 week of a date (UTC), e.g. 2026-W01; weeks start on Monday. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The moves into and out of `junkFolder` in one message's ledger. */
export function junkMoves(ledger: readonly LedgerLine[], receivedAt: Date, junkFolder: string): JunkMove[] {
  const moves: JunkMove[] = [];
  for (const line of ledger) {
    if (line.plugin !== 'operator' || line.stage !== 'move') continue;
    const { from, to, at } = (line.details ?? {}) as { from?: unknown; to?: unknown; at?: unknown };
    if (typeof from !== 'string' || typeof to !== 'string') continue;
    const when = typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? new Date(at) : receivedAt;
    if (to === junkFolder && from !== junkFolder) moves.push({ at: when, kind: 'falseNegative' });
    else if (from === junkFolder && to !== junkFolder) moves.push({ at: when, kind: 'falsePositive' });
  }
  return moves;
}

/** Counts per mailbox and week, from `since` on (arrivals and moves alike), sorted by mailbox then week. */
export class ReportBuilder {
  private readonly rows = new Map<string, ReportRow>();

  constructor(private readonly since?: Date) {}

  private row(mailbox: string, at: Date): ReportRow | undefined {
    if (this.since && at.getTime() < this.since.getTime()) return undefined;
    const week = isoWeek(at);
    const key = `${mailbox}\u0000${week}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { mailbox, week, received: 0, falseNegatives: 0, falsePositives: 0 };
      this.rows.set(key, row);
    }
    return row;
  }

  add(entry: Pick<MailboxEntry, 'mailboxAddress' | 'receivedAt'>, moves: readonly JunkMove[]): void {
    const arrived = this.row(entry.mailboxAddress, entry.receivedAt);
    if (arrived) arrived.received++;
    for (const move of moves) {
      const row = this.row(entry.mailboxAddress, move.at);
      if (!row) continue;
      if (move.kind === 'falsePositive') row.falsePositives++;
      else row.falseNegatives++;
    }
  }

  result(): ReportRow[] {
    return [...this.rows.values()].sort((a, b) => a.mailbox.localeCompare(b.mailbox) || a.week.localeCompare(b.week));
  }
}
