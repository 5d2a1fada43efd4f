/**
 * Header helpers shared by the normal path (mailparser's header lines) and the fallback path
 * (a message mailparser could not parse): both end in the same `Map<name, rawValues[]>`.
 */
import { bodyStart, headerSectionBytes } from '../../src/plugin-api.js';

/** One raw header line as mailparser gives it: lower-case key, the line with folding included. */
export interface HeaderLine {
  key: string;
  line: string;
}

/** RFC 5322 unfolding: a line break followed by white space is removed, the white space kept. */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '');
}

/** The raw value after the colon, unfolded and trimmed. */
export function rawHeaderValue(line: string): string {
  const colon = line.indexOf(':');
  return unfold(colon === -1 ? '' : line.slice(colon + 1)).trim();
}

/** Builds the lower-case name → raw values map, keeping the order values appeared in. */
export function headerMap(lines: readonly HeaderLine[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, line } of lines) {
    // mailparser reports a header block that is not a header (garbage) under the key ''.
    const name = key.trim().toLowerCase();
    if (name === '' || !line.includes(':')) continue;
    const values = map.get(name);
    const value = rawHeaderValue(line);
    if (values) values.push(value);
    else map.set(name, [value]);
  }
  return map;
}

/**
 * Splits the header block of a raw message into header lines without any MIME knowledge. Used
 * when mailparser fails: it reads the header section where every header reader ends it (the
 * plugin API's, at most MAX_HEADER_SECTION bytes) and groups continuation lines; the body is
 * what follows its empty line.
 */
export function splitHeaderBlock(raw: Buffer): { lines: HeaderLine[]; body: string } {
  const head = headerSectionBytes(raw).toString('utf8');
  const body = raw.toString('utf8', bodyStart(raw));
  const lines: HeaderLine[] = [];
  for (const physical of head.split(/\r?\n/)) {
    const last = lines[lines.length - 1];
    if (/^[ \t]/.test(physical) && last) {
      last.line += `\r\n${physical}`;
      continue;
    }
    const colon = physical.indexOf(':');
    if (colon <= 0) continue;
    lines.push({ key: physical.slice(0, colon).trim().toLowerCase(), line: physical });
  }
  return { lines, body };
}

/** The first raw value of a header, or undefined. */
export function firstValue(headers: Map<string, string[]>, name: string): string | undefined {
  return headers.get(name)?.[0];
}

/** Parses a Date header; an unparseable or missing date is null (mailparser would say "now"). */
export function parseDate(value: string | undefined): Date | null {
  if (value === undefined || value.trim() === '') return null;
  // Drop RFC 5322 comments such as "(UTC)", which some engines refuse.
  const date = new Date(value.replace(/\([^()]*\)/g, ' ').trim());
  return Number.isNaN(date.getTime()) ? null : date;
}
