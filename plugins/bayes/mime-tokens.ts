/**
 * MIME structure tokens: the content types, charsets and transfer encodings named anywhere in
 * the first MAX_RAW_SCAN bytes of the raw message (part headers sit deep in the body, and
 * mailparser does not hand them over). The bytes are scanned where they lie, never copied into
 * a string: only each token's few bytes become text.
 *
 * The tokens, and their order, are what these regular expressions give over the same bytes read
 * as latin1, so a trained model reads a message as it always has:
 *   /^content-type:[ \t]*([a-z0-9.+-]+\/[a-z0-9.+-]+)/gim
 *   /\bcharset\s*=\s*"?([a-z0-9_.:-]+)/gi
 *   /^content-transfer-encoding:[ \t]*([a-z0-9-]+)/gim
 * (a line starts at the first byte and after every CR or LF; `\s` over latin1 is TAB to CR,
 * space and NBSP; `i` folds ASCII letters only).
 */
import { fieldsNamed, holdsFolded, lowerAsciiByte } from '../../src/plugin-api.js';
import type { Emit } from './text-tokens.js';

/** Bytes of the raw message scanned for MIME part headers (content types, charsets, encodings). */
export const MAX_RAW_SCAN = 1_000_000;

const CHARSET = Buffer.from('charset', 'latin1');
const EQUALS = 0x3d;
const QUOTE = 0x22;

const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (lowerAsciiByte(b) >= 0x61 && lowerAsciiByte(b) <= 0x7a);
/** `[a-z0-9.+-]`, any case. */
const isTypeByte = (b: number): boolean => isAlnum(b) || b === 0x2e || b === 0x2b || b === 0x2d;
/** `[a-z0-9_.:-]`, any case. */
const isCharsetByte = (b: number): boolean => isAlnum(b) || b === 0x5f || b === 0x2e || b === 0x3a || b === 0x2d;
/** `[a-z0-9-]`, any case. */
const isEncodingByte = (b: number): boolean => isAlnum(b) || b === 0x2d;
/** `\w`: a byte a `\b` word boundary counts as part of a word. */
const isWordByte = (b: number): boolean => isAlnum(b) || b === 0x5f;
/** `\s` over latin1: TAB, LF, VT, FF, CR, space and NBSP. */
const isSpace = (b: number): boolean => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09;

/** Where the run of bytes from `at` that `accepts` ends. */
function runEnd(bytes: Buffer, at: number, accepts: (b: number) => boolean): number {
  let end = at;
  while (end < bytes.length && accepts(bytes[end])) end++;
  return end;
}

const lowerText = (bytes: Buffer, start: number, end: number): string => bytes.toString('latin1', start, end).toLowerCase();

/** The `type/subtype` of the Content-Type field whose colon ends at `at`, or undefined. */
function contentTypeAt(bytes: Buffer, at: number): string | undefined {
  const start = runEnd(bytes, at, isBlank);
  const slash = runEnd(bytes, start, isTypeByte);
  if (slash === start || bytes[slash] !== 0x2f) return undefined;
  const end = runEnd(bytes, slash + 1, isTypeByte);
  return end === slash + 1 ? undefined : lowerText(bytes, start, end);
}

/** The encoding of the Content-Transfer-Encoding field whose colon ends at `at`, or undefined. */
function transferEncodingAt(bytes: Buffer, at: number): string | undefined {
  const start = runEnd(bytes, at, isBlank);
  const end = runEnd(bytes, start, isEncodingByte);
  return end === start ? undefined : lowerText(bytes, start, end);
}

/** Content types and transfer encodings of the lines that start with those fields, in order. */
function partHeaderLines(bytes: Buffer): { types: string[]; encodings: string[] } {
  const types: string[] = [];
  const encodings: string[] = [];
  for (const [name, at] of fieldsNamed(bytes, 'content-type', 'content-transfer-encoding')) {
    const value = name === 'content-type' ? contentTypeAt(bytes, at) : transferEncodingAt(bytes, at);
    if (value !== undefined) (name === 'content-type' ? types : encodings).push(value);
  }
  return { types, encodings };
}

/**
 * Every `charset=value` (blanks around `=`, the value maybe quoted), found from its `=`: the
 * word before it, past white space, must be a whole `charset`. Matches do not overlap, as a
 * global regex's do not; each byte is looked at a bounded number of times.
 */
function charsets(bytes: Buffer): string[] {
  const found: string[] = [];
  let from = 0; // where the last match ended: the next may not start before
  for (let eq = bytes.indexOf(EQUALS); eq >= 0; eq = bytes.indexOf(EQUALS, eq + 1)) {
    let nameEnd = eq;
    while (nameEnd > from && isSpace(bytes[nameEnd - 1])) nameEnd--;
    const start = nameEnd - CHARSET.length;
    if (start < from || !holdsFolded(bytes, start, CHARSET) || (start > 0 && isWordByte(bytes[start - 1]))) continue;
    let value = runEnd(bytes, eq + 1, isSpace);
    if (bytes[value] === QUOTE) value++;
    const end = runEnd(bytes, value, isCharsetByte);
    if (end === value) continue;
    found.push(lowerText(bytes, value, end));
    from = end;
  }
  return found;
}

/** Content types, charsets and transfer encodings of every MIME part, from the raw bytes. */
export function mimeTokens(raw: Buffer, emit: Emit): void {
  const bytes = raw.subarray(0, MAX_RAW_SCAN);
  const { types, encodings } = partHeaderLines(bytes);
  for (const type of types) emit(`content-type:${type}`);
  for (const charset of charsets(bytes)) emit(`charset:${charset}`);
  for (const encoding of encodings) emit(`cte:${encoding}`);
}
