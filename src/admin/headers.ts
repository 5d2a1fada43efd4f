import { headerSectionBytes } from '../mail/message-headers.js';

/** One header field, unfolded. */
export interface HeaderField {
  name: string;
  value: string;
}

/** The header block of a message: everything before the first empty line, within the bound the mail room sets. */
export function headerBlock(message: Buffer): string {
  return headerSectionBytes(message).toString('utf8');
}

/** Splits a header block into fields, unfolding continuation lines (RFC 5322 §2.2.3). */
export function parseHeaders(block: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({
      name: line.slice(0, colon).trim(),
      value: line
        .slice(colon + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim(),
    });
  }
  return fields;
}
