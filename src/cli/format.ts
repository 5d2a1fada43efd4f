/**
 * Output helpers for the CLI: a small table formatter, key/value blocks and value formatting.
 * Everything that comes from a message (subjects, addresses) goes through {@link cleanText},
 * so a hostile header cannot move the terminal cursor or break the table.
 */
import { cleanText } from '../admin/input-rules.js';

/** One column of a table. */
export interface Column {
  header: string;
  /** @defaultValue "left" */
  align?: 'left' | 'right';
  /** Longer cells are cut and end in "…". @defaultValue no limit */
  maxWidth?: number;
}


function fit(text: string, maxWidth: number | undefined): string {
  const clean = cleanText(text);
  if (maxWidth === undefined || clean.length <= maxWidth) return clean;
  return `${clean.slice(0, Math.max(0, maxWidth - 1))}…`;
}

/**
 * Formats rows as a plain-text table: a header line, then one line per row, columns separated by
 * two spaces. Trailing spaces are trimmed. Returns the text with a final newline.
 */
export function formatTable(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) => columns.map((col, i) => fit(row[i] ?? '', col.maxWidth)));
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** Formats `label value` pairs with the values aligned; empty values show as "-". */
export function formatFields(fields: [string, string][], indent = ''): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return (
    fields.map(([label, value]) => `${indent}${label.padEnd(width)}  ${cleanText(value) || '-'}`).join('\n') + '\n'
  );
}

/** Bytes as a short human size: 512, 1.5K, 20M, 2G (binary units, like the --quota flag). */
export function formatSize(bytes: number): string {
  const units = ['K', 'M', 'G', 'T'];
  if (bytes < 1024) return String(bytes);
  let value = bytes;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  const text = value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
  return `${text}${unit}`;
}

/** A quota: "unlimited" for 0, otherwise {@link formatSize}. */
export function formatQuota(bytes: number): string {
  return bytes === 0 ? 'unlimited' : formatSize(bytes);
}

/** `YYYY-MM-DD HH:MM` in UTC, or "-" when there is no date. */
export function formatDate(date: Date | string | null | undefined): string {
  if (date === null || date === undefined) return '-';
  const d = typeof date === 'string' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return '-';
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** Writes a value as pretty JSON to stdout (dates become ISO strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes text to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
