/**
 * Authentication-Results headers that arrive with a message and claim our own authserv-id
 * (RFC 8601 §5): only we may write those, so they are forged (or left over from a loop). Hermod
 * never reads results from incoming headers — privacy, classify and the scorer use the auth
 * plugin's own checks (`transaction.auth`) — and the raw message stays byte-exact, so instead of
 * renaming them they are counted, reported and scored.
 */

/** Most header bytes read. */
const MAX_HEADER_BLOCK = 256 * 1024;
/** Most characters of one header value read. */
const MAX_VALUE = 1024;

/** The header block of a raw message (up to the first empty line), unfolded, one field per entry. */
function headerFields(raw: Buffer): string[] {
  const text = raw.subarray(0, MAX_HEADER_BLOCK).toString('latin1');
  const fields: string[] = [];
  for (const line of text.split('\n')) {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (clean === '') break;
    if ((clean[0] === ' ' || clean[0] === '\t') && fields.length > 0) fields[fields.length - 1] += clean.slice(0, MAX_VALUE);
    else fields.push(clean.slice(0, MAX_VALUE));
  }
  return fields;
}

/** Drops leading white space and (unnested) comments: `  (x) host; …` → `host; …`. */
function skipCfws(value: string): string {
  let i = 0;
  for (;;) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    if (value[i] !== '(') return value.slice(i);
    const close = value.indexOf(')', i);
    if (close < 0) return '';
    i = close + 1;
  }
}

/** The authserv-id of an Authentication-Results value (`mx.example.org 1; spf=pass …` → `mx.example.org`). */
export function authservIdOf(value: string): string {
  const rest = skipCfws(value);
  let end = 0;
  while (end < rest.length && rest[end] !== ';' && rest[end] !== ' ' && rest[end] !== '\t' && rest[end] !== '(') end++;
  return rest.slice(0, end).toLowerCase();
}

/** The values of incoming Authentication-Results headers that claim `authservId`. */
export function forgedAuthResults(raw: Buffer, authservId: string): string[] {
  const ours = authservId.toLowerCase();
  const found: string[] = [];
  for (const field of headerFields(raw)) {
    const colon = field.indexOf(':');
    if (colon < 0 || field.slice(0, colon).trim().toLowerCase() !== 'authentication-results') continue;
    const value = field.slice(colon + 1);
    if (authservIdOf(value) === ours) found.push(value.trim());
  }
  return found;
}
