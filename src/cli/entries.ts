import type { MailboxEntry } from '../store/types.js';
import { formatDate, formatSize, formatTable, print, printJson, type Column } from './format.js';

/** Columns of `message list` and `search`. */
const ENTRY_COLUMNS: Column[] = [
  { header: 'id' },
  { header: 'date' },
  { header: 'folder', maxWidth: 16 },
  { header: 'from', maxWidth: 32 },
  { header: 'subject', maxWidth: 50 },
  { header: 'size', align: 'right' },
  { header: 'tags', maxWidth: 24 },
  { header: 'spam', align: 'right' },
];

/** Formats a spam score with one decimal. */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(1) : String(score);
}

/** The table rows for entries: the message's own Date header, else the arrival time. */
function entryRow(e: MailboxEntry): string[] {
  return [
    e.id,
    formatDate(e.summary.date ?? e.receivedAt),
    e.folder,
    e.summary.from || '-',
    e.summary.subject || '(no subject)',
    formatSize(e.size),
    e.tags.join(',') || '-',
    formatScore(e.spamScore),
  ];
}

/**
 * Prints entries as the shared listing table, or as JSON.
 * @param empty what to print when there is nothing to list (human output only).
 */
export function printEntries(entries: MailboxEntry[], json: boolean | undefined, empty: string): void {
  if (json) return printJson(entries);
  if (entries.length === 0) return print(empty);
  print(formatTable(ENTRY_COLUMNS, entries.map(entryRow)));
}

export { findMailbox } from '../admin/directory.js';
