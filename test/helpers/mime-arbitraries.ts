/**
 * fast-check generators for hostile MIME messages: nested multiparts with odd or missing
 * boundaries, every transfer encoding (valid and broken), unknown charsets, and headers that
 * break the rules (no colon, stray continuation lines, bad encoded-words, NUL and 8-bit bytes).
 * Messages are latin1 strings so every byte value 0–255 can appear.
 */
import fc from 'fast-check';

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b).toString('latin1'));
const ascii = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const text = (maxLength: number) => fc.oneof(ascii(maxLength), fc.string({ maxLength }).map((s) => Buffer.from(s).toString('latin1')), bytes(maxLength));

const charset = fc.constantFrom('utf-8', 'us-ascii', 'iso-8859-1', 'windows-1252', 'koi8-r', 'iso-2022-jp', 'x-unknown-42', '"utf-8', '');
const transferEncoding = fc.constantFrom('7bit', '8bit', 'binary', 'base64', 'quoted-printable', 'x-uuencode', 'BASE64 ', 'bogus', '');

/** Header lines that a tolerant parser must survive. */
const brokenHeader = fc.oneof(
  ascii(60).map((s) => s.replace(/:/g, '')),
  ascii(60).map((s) => ` ${s}`),
  ascii(40).map((s) => `Subject: =?utf-8?B?${s}?=`),
  ascii(40).map((s) => `Subject: =?x-unknown?Q?${s}?= =?utf-8?Q?=ZZ=4?=`),
  bytes(60).map((s) => `X-Bytes: ${s.replace(/[\r\n]/g, '')}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `X-Long: ${'a'.repeat(n)}`),
  ascii(40).map((s) => `Content-Type: ${s}`),
  ascii(40).map((s) => `Content-Disposition: attachment; filename*=utf-8''%ZZ${s}; filename="${s}`),
  fc.constantFrom('Content-Type: multipart/mixed', 'Content-Type: ;;;', 'Content-Type: multipart/mixed; boundary=""', 'MIME-Version: 9.9', 'From: <<<@>>>', 'To: ,,,;;;', 'Date: yesterday', ':', 'Content-Type:'),
);

/** The encoded body of a leaf part, often not what its declared encoding promises. */
function leafBody(encoding: string): fc.Arbitrary<string> {
  if (encoding.trim().toLowerCase() === 'base64') {
    return fc.oneof(
      bytes(1500).map((b) => Buffer.from(b, 'latin1').toString('base64').replace(/.{76}/g, '$&\r\n')),
      bytes(1500).map((b) => Buffer.from(b, 'latin1').toString('base64')),
      ascii(300),
    );
  }
  if (encoding === 'quoted-printable') {
    return fc.oneof(ascii(300).map((s) => s.replace(/=/g, '=3D')), fc.constantFrom('=', '=G1=\r\n=', '=\r\n=\r\n', '=0D=0A.=0D=0A'), ascii(300));
  }
  return text(1500);
}

interface Part {
  headers: string[];
  body: string;
}

const leaf: fc.Arbitrary<Part> = fc
  .tuple(
    fc.constantFrom('text/plain', 'text/html', 'application/octet-stream', 'image/png', 'text/calendar', 'application/ms-tnef', 'message/delivery-status'),
    charset,
    transferEncoding,
    fc.option(fc.constantFrom('attachment; filename="a.pdf"', 'inline', 'attachment', 'attachment; filename='), { nil: undefined }),
    fc.array(brokenHeader, { maxLength: 2 }),
  )
  .chain(([type, cs, enc, disposition, extra]) =>
    leafBody(enc).map((body) => ({
      headers: [
        `Content-Type: ${type}${cs ? `; charset=${cs}` : ''}`,
        ...(enc ? [`Content-Transfer-Encoding: ${enc}`] : []),
        ...(disposition ? [`Content-Disposition: ${disposition}`] : []),
        ...extra,
      ],
      body,
    })),
  );

const boundary = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/),
  fc.constantFrom('', ' ', '--', 'a', 'x'.repeat(200), '=_"\\'),
);

function multipart(child: fc.Arbitrary<Part>): fc.Arbitrary<Part> {
  return fc
    .tuple(
      fc.constantFrom('mixed', 'alternative', 'related', 'digest', 'signed', 'report', 'x-unknown'),
      boundary,
      fc.array(child, { maxLength: 4 }),
      fc.boolean(),
      text(100),
      text(100),
    )
    .map(([subtype, b, children, closed, preamble, epilogue]) => ({
      headers: [`Content-Type: multipart/${subtype}; boundary="${b}"`],
      body: [
        preamble,
        ...children.map((c) => `--${b}\r\n${c.headers.join('\r\n')}\r\n\r\n${c.body}`),
        closed ? `--${b}--` : '',
        closed ? epilogue : '',
      ].join('\r\n'),
    }));
}

function rfc822(child: fc.Arbitrary<Part>): fc.Arbitrary<Part> {
  return child.map((c) => ({
    headers: ['Content-Type: message/rfc822'],
    body: `From: inner@remote.test\r\nSubject: inner\r\n${c.headers.join('\r\n')}\r\n\r\n${c.body}`,
  }));
}

/** A MIME tree up to `maxDepth` levels of multipart or message/rfc822 nesting. */
export function mimeTree(maxDepth: number): fc.Arbitrary<Part> {
  const { tree } = fc.letrec<{ tree: Part }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', maxDepth, withCrossShrink: true },
      leaf,
      multipart(tie('tree')),
      rfc822(tie('tree')),
    ),
  }));
  return tree;
}

/** A whole message: top-level headers (some broken), then the tree; line ends mostly CRLF. */
export function hostileMessage(maxDepth = 5): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(brokenHeader, { maxLength: 4 }),
      ascii(60),
      mimeTree(maxDepth),
      fc.constantFrom('\r\n', '\n', '\r'),
      fc.boolean(),
    )
    .map(([broken, subject, root, lineEnd, mimeVersion]) => {
      const headers = ['From: Bob <bob@remote.test>', 'To: alice@example.test', `Subject: ${subject}`, ...(mimeVersion ? ['MIME-Version: 1.0'] : []), ...broken, ...root.headers];
      const message = `${headers.join('\r\n')}\r\n\r\n${root.body}`;
      // Some senders use bare LF or CR throughout; the wire keeps them as they are.
      return lineEnd === '\r\n' ? message : message.replace(/\r\n/g, lineEnd);
    });
}
