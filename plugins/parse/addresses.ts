import type { AddressObject, EmailAddress } from 'mailparser';

// Display names with these characters are quoted so the string can be parsed back.
const NEEDS_QUOTES = /[()<>[\]:;@\\,."]/;

/**
 * Formats one mailbox as `addr`, or `Name <addr>` when there is a display name. A name with
 * RFC 5322 specials is quoted: `"Smith, Bob" <bob@example.com>`.
 */
export function formatMailbox(entry: EmailAddress): string {
  const address = entry.address ?? '';
  const name = entry.name.trim();
  if (name === '' || name === address) return address;
  const shown = NEEDS_QUOTES.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return address === '' ? shown : `${shown} <${address}>`;
}

/** Mailboxes of an address header, groups flattened (an empty group contributes nothing). */
export function flattenAddresses(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  if (!value) return [];
  const objects = Array.isArray(value) ? value : [value];
  const out: EmailAddress[] = [];
  const visit = (entry: EmailAddress): void => {
    if (entry.group) entry.group.forEach(visit);
    else if (entry.address) out.push(entry);
  };
  objects.forEach((object) => object.value.forEach(visit));
  return out;
}

/** The formatted mailboxes of an address header. */
export function formatAddresses(value: AddressObject | AddressObject[] | undefined): string[] {
  return flattenAddresses(value).map(formatMailbox);
}

/** Splits a raw address list on top-level commas (fallback path only; quotes respected). */
export function splitRawAddresses(value: string | undefined): string[] {
  if (!value) return [];
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}
