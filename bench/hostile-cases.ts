/**
 * The adversarial messages of `npm run bench:hostile`. Each is built here from nothing, so the
 * bench needs no fixture files and every figure is reproducible: the same bytes on every run.
 *
 * Every case targets one way a message can cost a server more than its size: backtracking
 * regexes on markup or addresses, per-header or per-part bookkeeping, deep recursion in a MIME
 * walker, one enormous line, bytes that are not text, and plain bulk.
 */

const MiB = 1024 * 1024;
const KiB = 1024;

/** One hostile message: a name for the report and its raw bytes (CRLF line ends). */
export interface HostileCase {
  name: string;
  raw: Buffer;
}

/** The headers every case starts with; `extra` lines go before the blank line. */
function head(subject: string, extra: string[] = [], contentType = 'text/plain; charset=utf-8'): string {
  return [
    'From: sender@hostile.test',
    'To: victim@bench.test',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/[^a-z0-9]/gi, '-')}@hostile.test>`,
    'Date: Fri, 04 Dec 2026 08:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Splits a long run of characters into CRLF lines of at most `width` so only the payload is odd. */
function wrap(text: string, width = 998): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join('\r\n');
}

/** An HTML body of 1 MiB of '<': every tag-stripping regex of the form <[^>]*> goes quadratic. */
function angleBrackets(): HostileCase {
  return { name: '1 MiB of <', raw: Buffer.from(head('angles', [], 'text/html; charset=utf-8') + wrap('<'.repeat(MiB)) + '\r\n') };
}

/** 1 MiB of '<a ' with no closing '>': a tag that never ends, opened a third of a million times. */
function unclosedTags(): HostileCase {
  const body = '<a '.repeat(Math.floor(MiB / 3));
  return { name: '1 MiB of <a without >', raw: Buffer.from(head('unclosed', [], 'text/html; charset=utf-8') + wrap(body) + '\r\n') };
}

/** A From display name of 100 KiB that looks like addresses: the EMAIL_IN_TEXT kind of pattern. */
function hugeDisplayName(): HostileCase {
  const name = 'a@a.'.repeat(25 * KiB);
  const text = head('display-name').replace('From: sender@hostile.test', `From: "${name}" <sender@hostile.test>`);
  return { name: '100 KiB From display name', raw: Buffer.from(text + 'hello\r\n') };
}

/** 10,000 header fields. */
function manyHeaders(): HostileCase {
  const extra: string[] = [];
  for (let i = 0; i < 10_000; i++) extra.push(`X-Filler-${i}: value ${i}`);
  return { name: '10,000 headers', raw: Buffer.from(head('headers', extra) + 'hello\r\n') };
}

/** multipart/mixed nested 100 levels deep, one text part at the bottom. */
function deepMime(): HostileCase {
  const depth = 100;
  let body = 'Content-Type: text/plain\r\n\r\ndeep\r\n';
  for (let level = depth - 1; level >= 0; level--) {
    const boundary = `b${level}`;
    body = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n${body}--${boundary}--\r\n`;
  }
  const text = head('deep').replace(/Content-Type: [^\r]*\r\n\r\n$/, '') + body;
  return { name: 'MIME nested 100 deep', raw: Buffer.from(text) };
}

/** 5,000 small parts in one multipart/mixed. */
function manyParts(): HostileCase {
  const parts: string[] = [];
  for (let i = 0; i < 5000; i++) {
    parts.push(`--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="f${i}.txt"\r\n\r\npart ${i}\r\n`);
  }
  const text = head('parts', [], 'multipart/mixed; boundary="p"') + parts.join('') + '--p--\r\n';
  return { name: '5,000 parts', raw: Buffer.from(text) };
}

/** A base64 attachment of 1 MiB written as one line with no breaks. */
function longBase64Line(): HostileCase {
  const payload = Buffer.alloc(768 * KiB, 0x5a).toString('base64');
  const text =
    head('b64line', [], 'multipart/mixed; boundary="q"') +
    '--q\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n' +
    '--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename="blob.bin"\r\n\r\n' +
    payload +
    '\r\n--q--\r\n';
  return { name: '1 MiB base64 line', raw: Buffer.from(text) };
}

/** Invalid UTF-8 sequences and NUL bytes inside header values. */
function badBytesInHeaders(): HostileCase {
  const bad = Buffer.from([0xc3, 0x28, 0x00, 0xff, 0xfe, 0xe2, 0x82, 0x00, 0xf0, 0x90, 0x80]);
  const parts = [
    Buffer.from('From: sender@hostile.test\r\nTo: victim@bench.test\r\nSubject: '),
    bad,
    Buffer.from('\r\nX-Binary: '),
    bad,
    bad,
    Buffer.from('\r\nMessage-ID: <bad-bytes@hostile.test>\r\nDate: Fri, 04 Dec 2026 08:00:00 +0000\r\n\r\nbody\r\n'),
  ];
  return { name: 'invalid UTF-8 and NUL in headers', raw: Buffer.concat(parts) };
}

/** A 50 MiB attachment (base64, 76-column lines): bulk, above the default size limit. */
function bigAttachment(): HostileCase {
  const chunk = Buffer.alloc(57 * 1024, 0x41).toString('base64');
  const lines = wrap(chunk, 76);
  const repeats = Math.ceil((50 * MiB) / Buffer.byteLength(lines + '\r\n'));
  const body = new Array(repeats).fill(lines).join('\r\n');
  const text =
    head('big', [], 'multipart/mixed; boundary="r"') +
    '--r\r\nContent-Type: text/plain\r\n\r\nbig attachment\r\n' +
    '--r\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename="big.bin"\r\n\r\n' +
    body +
    '\r\n--r--\r\n';
  return { name: '50 MiB attachment', raw: Buffer.from(text) };
}

/** Every case, in the order the bench runs them (the bulky one last). */
export function hostileCases(): HostileCase[] {
  return [
    angleBrackets(),
    unclosedTags(),
    hugeDisplayName(),
    manyHeaders(),
    deepMime(),
    manyParts(),
    longBase64Line(),
    badBytesInHeaders(),
    bigAttachment(),
  ];
}
