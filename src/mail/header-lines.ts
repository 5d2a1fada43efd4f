/**
 * Header fields found by name anywhere in a message's raw bytes: the part headers of a MIME tree
 * sit deep in the body, where no header-section reader looks. The bytes are searched where they
 * lie; only what a caller asks for becomes text.
 */

const LF = 0x0a;
const CR = 0x0d;

/** An ASCII letter in lower case; any other byte as it is (what a case-blind match compares). */
export const lowerAsciiByte = (b: number): number => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b);

/** Whether `bytes` holds `lower` (lower-case bytes) at `at`, ASCII letters in any case. */
export function holdsFolded(bytes: Buffer, at: number, lower: Buffer): boolean {
  if (at < 0 || at + lower.length > bytes.length) return false;
  for (let i = 0; i < lower.length; i++) if (lowerAsciiByte(bytes[at + i]) !== lower[i]) return false;
  return true;
}

/**
 * Every line of `bytes` that starts with one of `names` and a colon (ASCII letters in any case),
 * in order: the name, lower case, and the index just after the colon. A line starts at the first
 * byte and after every CR or LF (a bare CR ends a line too, as `^` in a multiline regular
 * expression has it). One pass for all the names: the line breaks are found by the native
 * search, and each line start is compared with each name only as far as they agree.
 */
export function* fieldsNamed(bytes: Buffer, ...names: string[]): Generator<[name: string, valueAt: number]> {
  const prefixes = names.map((name) => Buffer.from(`${name.toLowerCase()}:`, 'latin1'));
  let lf = bytes.indexOf(LF);
  let cr = bytes.indexOf(CR);
  for (let at = 0; ; ) {
    for (let i = 0; i < prefixes.length; i++) {
      if (holdsFolded(bytes, at, prefixes[i])) yield [names[i].toLowerCase(), at + prefixes[i].length];
    }
    if (lf < 0 && cr < 0) return;
    if (cr < 0 || (lf >= 0 && lf < cr)) {
      at = lf + 1;
      lf = bytes.indexOf(LF, at);
    } else {
      at = cr + 1;
      cr = bytes.indexOf(CR, at);
    }
  }
}

/**
 * The value of the field whose colon ends at `at`, unfolded (RFC 5322 §2.2.3: a line break
 * followed by blanks becomes one space), leading blanks dropped, latin1: it ends at the first
 * line break not followed by a blank, and at most `maxBytes` bytes of it are read.
 */
export function unfoldedValueAt(bytes: Buffer, at: number, maxBytes: number): string {
  const limit = Math.min(bytes.length, at + maxBytes);
  let end = at;
  while (end < limit) {
    const b = bytes[end];
    if (b !== CR && b !== LF) {
      end++;
      continue;
    }
    const next = b === CR && bytes[end + 1] === LF ? end + 2 : end + 1;
    if (b === CR && next === end + 1) break; // a bare CR ends the field
    if (next >= limit || (bytes[next] !== 0x20 && bytes[next] !== 0x09)) break;
    end = next;
  }
  return bytes.toString('latin1', at, end).replace(/\r?\n[ \t]+/g, ' ').replace(/^[ \t]+/, '');
}
