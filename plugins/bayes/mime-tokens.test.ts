import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { hostileMessage } from '../../test/helpers/mime-arbitraries.js';
import { MAX_RAW_SCAN, mimeTokens } from './mime-tokens.js';

/** The tokens of a message, in emitted order. */
function tokensOf(raw: Buffer): string[] {
  const out: string[] = [];
  mimeTokens(raw, (token) => out.push(token));
  return out;
}

/**
 * The definition the tokens were trained with: three regular expressions over the first
 * MAX_RAW_SCAN bytes as latin1. The byte scan must give the same tokens in the same order.
 */
function byRegex(raw: Buffer): string[] {
  const text = raw.subarray(0, MAX_RAW_SCAN).toString('latin1');
  const out: string[] = [];
  for (const m of text.matchAll(/^content-type:[ \t]*([a-z0-9.+-]+\/[a-z0-9.+-]+)/gim)) out.push(`content-type:${m[1].toLowerCase()}`);
  for (const m of text.matchAll(/\bcharset\s*=\s*"?([a-z0-9_.:-]+)/gi)) out.push(`charset:${m[1].toLowerCase()}`);
  for (const m of text.matchAll(/^content-transfer-encoding:[ \t]*([a-z0-9-]+)/gim)) out.push(`cte:${m[1].toLowerCase()}`);
  return out;
}

/** Pieces that sit on every edge of the three patterns: case, blanks, line ends, quotes, word boundaries. */
const piece = fc.constantFrom(
  'Content-Type:', 'content-type:', 'CONTENT-TYPE: ', 'Content-Transfer-Encoding:', 'content-transfer-encoding:\t', 'Content-Type',
  'charset', 'CharSet', 'charset=', 'charset = "', 'xcharset', '_charset', '-charset', '=', ' = ', '="', '"', ' ', '\t', '\xa0', '\x0b', '\x0c', '\r', '\n', '\r\n',
  'text/plain', 'TEXT/HTML', 'multipart/mixed;', 'utf-8', 'ISO-8859-1', 'x_y.z:1', 'base64', 'Quoted-Printable', '/', '+', '.', ';',
  'a', 'Z', '9', '\xe9', '\xff', '\x85', '\x00',
);
const edgeMessage = fc.array(piece, { maxLength: 40 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

describe('MIME structure tokens from the raw bytes', () => {
  it('names the part types, charsets and encodings of an ordinary multipart message, in order', () => {
    const raw = Buffer.from(
      'From: a@example.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhi=20there\r\n' +
        '--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--b--\r\n',
    );
    expect(tokensOf(raw)).toEqual([
      'content-type:multipart/alternative', 'content-type:text/plain', 'content-type:text/html',
      'charset:utf-8', 'charset:iso-8859-1', 'cte:quoted-printable', 'cte:base64',
    ]);
  });

  it('reads the edge shapes as the trained definition does', () => {
    const cases: [string, string[]][] = [
      // Matches do not overlap: the value `charset` is taken, and the `=x` after it starts nothing.
      ['charset=charset=x', ['charset:charset']],
      ['charset = "utf-8"; xcharset=no; _charset=no; -charset=yes', ['charset:utf-8', 'charset:yes']],
      ['charset=\xa0\r\n"KOI8-R"', ['charset:koi8-r']],
      ['charset=""utf-8', []],
      // A bare CR starts a line; blanks after the colon, but not a line break, are skipped.
      ['x\rCONTENT-TYPE:\t Text/HTML\rContent-Transfer-Encoding: BASE64', ['content-type:text/html', 'cte:base64']],
      ['Content-Type:\r\n text/plain', []],
      [' Content-Type: text/plain', []],
    ];
    for (const [text, tokens] of cases) {
      const raw = Buffer.from(text, 'latin1');
      expect(tokensOf(raw), JSON.stringify(text)).toEqual(tokens);
      expect(byRegex(raw)).toEqual(tokens);
    }
  });

  it('gives exactly the tokens the trained definition gives, on hostile MIME and on every edge of the patterns', () => {
    fc.assert(fc.property(edgeMessage, (raw) => {
      expect(tokensOf(raw)).toEqual(byRegex(raw));
    }), { numRuns: 3000 });
    fc.assert(fc.property(hostileMessage(), (text) => {
      const raw = Buffer.from(text, 'latin1');
      expect(tokensOf(raw)).toEqual(byRegex(raw));
    }), { numRuns: 300 });
  });

  it('reads no further than the bound, and a header cut by it is read as far as the bound', () => {
    const pad = (n: number) => Buffer.alloc(n, 'a');
    const cut = Buffer.concat([pad(MAX_RAW_SCAN - 22), Buffer.from('\nContent-Type: text/plainly\r\ncharset=utf-8\r\n')]);
    expect(tokensOf(cut)).toEqual(['content-type:text/pl']);
    expect(tokensOf(cut)).toEqual(byRegex(cut));
  });

  it('turns only the tokens into text, never the message', () => {
    const head = 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n';
    const raw = Buffer.from(`${head}${'body line =3D with equals\r\n'.repeat(40_000)}`);
    const toString = vi.spyOn(Buffer.prototype, 'toString');
    try {
      expect(tokensOf(raw)).toEqual(['content-type:text/plain', 'charset:utf-8', 'cte:8bit']);
      const longest = Math.max(0, ...toString.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0)));
      expect(longest).toBe('text/plain'.length);
    } finally {
      toString.mockRestore();
    }
  });
});
