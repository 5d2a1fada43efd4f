/**
 * The input rules the CLI and the admin API share: what makes a domain, an address, a message id
 * or a queue id acceptable, and the one-line error that names the field at fault.
 */
import { InputError } from '../errors.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 5322 dot-atom characters (quoted local parts are not supported for mailboxes). */
const LOCAL_ATOM = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+$/i;

/**
 * Why `name` is not a usable domain name, or null when it is: two or more dot-separated labels
 * of letters, digits and inner hyphens, with a top-level label that is not all digits (so an IP
 * address is not taken for a domain).
 */
export function domainProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (/\s/.test(name)) return 'contains white space';
  if (name.length > 253) return 'is longer than 253 characters';
  const labels = name.toLowerCase().split('.');
  if (labels.length < 2) return 'needs at least two labels, e.g. example.org';
  if (labels.some((l) => !LABEL.test(l))) {
    return 'must be labels of letters, digits and hyphens separated by dots';
  }
  if (/^\d+$/.test(labels[labels.length - 1])) return 'has an all-digit top-level label';
  return null;
}

/** Why `address` is not a usable `local@domain` mailbox address, or null when it is. */
export function addressProblem(address: string): string | null {
  if (/\s/.test(address)) return 'contains white space';
  const at = address.lastIndexOf('@');
  if (at < 0) return 'must be local@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length === 0) return 'has an empty local part (before @)';
  if (local.length > 64) return 'has a local part longer than 64 characters';
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return 'has misplaced dots in the local part';
  }
  if (!local.split('.').every((atom) => LOCAL_ATOM.test(atom))) {
    return 'has a character not allowed in the local part';
  }
  const problem = domainProblem(domain);
  return problem ? `has a domain that ${problem}` : null;
}

/**
 * Checks a mailbox address given as a positional argument or option value.
 * @param what how the user supplied it, e.g. `ADDRESS` or `--mailbox`, so the error names it.
 * @returns the address, lower-cased (the store compares addresses case-insensitively).
 * @throws InputError naming `what` and the address.
 */
export function checkAddress(address: string, what: string): string {
  const problem = addressProblem(address);
  if (problem) throw new InputError(`invalid ${what} "${address}": ${problem}`);
  return address.toLowerCase();
}

/** Like {@link checkAddress}, for a domain name. */
export function checkDomain(name: string, what: string): string {
  const problem = domainProblem(name);
  if (problem) throw new InputError(`invalid ${what} "${name}": ${problem}`);
  return name.toLowerCase();
}

/** A ULID: 26 characters of Crockford base32, as Hermod gives entries and queued messages. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * Checks a message id (an entry id, as `message list` and `search` show it) given as an argument
 * or option, so a typo is a usage error instead of "nothing found" or an unfiltered listing.
 * @returns the id in upper case, as stored.
 */
export function checkMessageId(id: string, what: string): string {
  if (!ULID.test(id)) throw new InputError(`invalid ${what} "${id}": a message id is 26 letters and digits, as message list shows`);
  return id.toUpperCase();
}

/** Checks a queue id: a job id (MESSAGE.N) or a queued message id (MESSAGE). */
export function checkJobId(id: string, what: string): string {
  const [message, index, ...rest] = id.split('.');
  if (!ULID.test(message) || (index !== undefined && !/^\d{1,6}$/.test(index)) || rest.length > 0) {
    throw new InputError(`invalid ${what} "${id}": a queue id is MESSAGE.N (a job) or MESSAGE (all its jobs), as queue list shows`);
  }
  return id.toUpperCase();
}

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration such as 90s, 30m, 4h, 2d or 1w in milliseconds, or null when it is not one. */
export function durationMs(text: string): number | null {
  const match = DURATION.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2].toLowerCase()] : null;
}

/** The one-line explanation for a value {@link durationMs} refuses. */
export const DURATION_HINT = 'expected a duration such as 90s, 30m, 4h or 2d';

/** Replaces control characters (incl. ESC, CR, LF, TAB) with a space, so an echoed value stays on its line. */
export function cleanText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
