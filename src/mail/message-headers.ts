import addressparser from 'nodemailer/lib/addressparser';

/**
 * Small header readers for outbound mail: enough to find the From, To, Cc and Bcc addresses
 * of a message without parsing its body.
 */

/**
 * Most bytes at the start of a message searched for the end of its header section, and so the
 * most bytes anyone reads as headers. RFC 5322 sets no limit; honest header sections (long
 * Received chains, DKIM and ARC sets) stay far below it. Every header reader in Hermod and in
 * the plugins finds the header section here, so they all agree on where it ends.
 */
export const MAX_HEADER_SECTION = 256 * 1024;

/**
 * Where the header section ends: the index of the line break that ends its last line, so
 * `raw[0, end)` is the section without that break (0 when the message starts with an empty
 * line); -1 when no empty line starts within the first {@link MAX_HEADER_SECTION} bytes.
 *
 * An empty line is a LF, or a CR LF, right after a LF: line ends may be mixed (CRLF header
 * lines ended by a bare-LF empty line still end there). The bytes are searched as they are, so
 * a caller turns only the header section into a string.
 */
export function headerSectionEnd(raw: Buffer): number {
  const head = raw.subarray(0, MAX_HEADER_SECTION);
  if (head[0] === 0x0a || (head[0] === 0x0d && head[1] === 0x0a)) return 0;
  for (let lf = head.indexOf(0x0a); lf >= 0; lf = head.indexOf(0x0a, lf + 1)) {
    const next = head[lf + 1] === 0x0d ? lf + 2 : lf + 1;
    if (head[next] === 0x0a) return lf > 0 && head[lf - 1] === 0x0d ? lf - 1 : lf;
  }
  return -1;
}

/**
 * The header section's bytes without the empty line: a view of `raw`, not a copy. Without an
 * empty line within the bound, the first {@link MAX_HEADER_SECTION} bytes (the whole message when
 * it is shorter: a message may be headers alone).
 */
export function headerSectionBytes(raw: Buffer): Buffer {
  const end = headerSectionEnd(raw);
  return raw.subarray(0, end >= 0 ? end : MAX_HEADER_SECTION);
}

/**
 * Where the body starts: after the empty line that ends the header section. A message without
 * one within {@link MAX_HEADER_SECTION} bytes has no body anyone reads (raw.length).
 */
export function bodyStart(raw: Buffer): number {
  const end = headerSectionEnd(raw);
  if (end < 0) return raw.length;
  const emptyLine = end === 0 ? 0 : raw[end] === 0x0d ? end + 2 : end + 1;
  return raw[emptyLine] === 0x0d ? emptyLine + 2 : emptyLine + 1;
}

/** The header section as text (latin1, so bytes survive), without the empty line. */
export function headerText(raw: Buffer): string {
  return headerSectionBytes(raw).toString('latin1');
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

const BCC_LINE = /^bcc:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim;

/**
 * The message without its Bcc header(s): what recipients may see. Only the header section is
 * read as text; a message without Bcc comes back as it is, and one with Bcc is copied once. A
 * message of headers alone (no empty line) is all header section; one whose header section runs
 * past {@link MAX_HEADER_SECTION} is read up to its last whole line within the bound.
 */
export function withoutBcc(raw: Buffer): Buffer {
  const cut = headerSectionCut(raw);
  const text = raw.toString('latin1', 0, cut);
  BCC_LINE.lastIndex = 0;
  if (!BCC_LINE.test(text)) return raw;
  const head = text.replace(BCC_LINE, '');
  return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(cut)]);
}

/**
 * Where withoutBcc cuts: after the last header line's line break, so a Bcc there goes with its
 * break and the empty line that ends the header section stays one empty line.
 */
function headerSectionCut(raw: Buffer): number {
  const end = headerSectionEnd(raw);
  if (end >= 0) return raw[end] === 0x0d ? end + 2 : end + 1;
  if (raw.length <= MAX_HEADER_SECTION) return raw.length;
  return raw.lastIndexOf(0x0a, MAX_HEADER_SECTION - 1) + 1;
}
