/**
 * Authentication-Results headers that arrive with a message and claim our own authserv-id
 * (RFC 8601 §5): only we may write those, so they are forged (or left over from a loop). Hermod
 * never reads results from incoming headers — privacy, classify and the scorer use the auth
 * plugin's own checks (`transaction.auth`) — and the raw message stays byte-exact, so instead of
 * renaming them they are counted, reported and scored.
 */
import { authservIdOf, headerText } from '../../src/plugin-api.js';

/** Most characters of one header value read. */
const MAX_VALUE = 1024;

/**
 * The header section of a raw message, unfolded, one field per entry. Only the header section
 * is turned into text (at most MAX_HEADER_SECTION bytes, the plugin API's bound), never the body.
 */
function headerFields(raw: Buffer): string[] {
  const fields: string[] = [];
  for (const line of headerText(raw).split('\n')) {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    if ((clean[0] === ' ' || clean[0] === '\t') && fields.length > 0) fields[fields.length - 1] += clean.slice(0, MAX_VALUE);
    else fields.push(clean.slice(0, MAX_VALUE));
  }
  return fields;
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
