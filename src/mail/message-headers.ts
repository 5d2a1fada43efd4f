import addressparser from 'nodemailer/lib/addressparser';

/**
 * Small header readers for outbound mail: enough to find the From, To, Cc and Bcc addresses
 * of a message without parsing its body.
 */

/** The header section as text (latin1, so bytes survive), without the blank line. */
export function headerText(raw: Buffer): string {
  const head = raw.subarray(0, Math.min(raw.length, 256 * 1024));
  const end = headerSectionEnd(head);
  return head.toString('latin1', 0, end >= 0 ? end : head.length);
}

/** Every value of a header (unfolded), in order. */
export function headerValues(raw: Buffer, name: string): string[] {
  const unfolded = headerText(raw).replace(/\r?\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

/** The mailbox addresses of an address header (groups flattened), lower-cased. */
export function headerAddresses(raw: Buffer, name: string): string[] {
  return headerValues(raw, name)
    .flatMap((value) => addressparser(value, { flatten: true }))
    .map((a) => (a.address ?? '').toLowerCase())
    .filter((a) => a.includes('@'));
}

/** The domain of an address, lower-cased ('' for none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase() : '';
}

/**
 * Where the header section ends: the index at which `\r?\n\r?\n` first matches, or -1. The bytes
 * are searched as they are, so a caller turns only the header section into a string.
 */
export function headerSectionEnd(raw: Buffer): number {
  for (let lf = raw.indexOf(0x0a); lf >= 0; lf = raw.indexOf(0x0a, lf + 1)) {
    const next = raw[lf + 1] === 0x0d ? lf + 2 : lf + 1;
    if (raw[next] === 0x0a) return lf > 0 && raw[lf - 1] === 0x0d ? lf - 1 : lf;
  }
  return -1;
}

const BCC_LINE = /^bcc:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim;

/**
 * The message without its Bcc header(s): what recipients may see. Only the header section is
 * read as text; a message without Bcc comes back as it is, and one with Bcc is copied once.
 */
export function withoutBcc(raw: Buffer): Buffer {
  const end = headerSectionEnd(raw);
  if (end < 0) return raw;
  // The last header line with its line break: a Bcc there goes with its break, and the blank
  // line that ends the header section stays one blank line.
  const cut = raw[end] === 0x0d ? end + 2 : end + 1;
  const text = raw.toString('latin1', 0, cut);
  BCC_LINE.lastIndex = 0;
  if (!BCC_LINE.test(text)) return raw;
  const head = text.replace(BCC_LINE, '');
  return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(cut)]);
}
