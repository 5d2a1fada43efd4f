import { InputError } from '../errors.js';

/** An address split into its parts, lower-cased. */
export interface ParsedAddress {
  address: string;
  local: string;
  domain: string;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// RFC 5322 dot-atom characters; quoted local parts are legal but not worth supporting for mailboxes.
const LOCAL_ATOM = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+$/;

/**
 * Lower-cases and checks a domain name: at least two labels of letters, digits and inner
 * hyphens, 253 characters at most, and a top-level label that is not all digits (so an IP
 * address is not taken for a domain). A trailing dot (FQDN form) is dropped.
 */
export function normalizeDomain(name: string, field = 'domain'): string {
  const domain = String(name).trim().toLowerCase().replace(/\.$/, '');
  const labels = domain.split('.');
  const plausible =
    domain.length > 0 &&
    domain.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label)) &&
    !/^\d+$/.test(labels[labels.length - 1]);
  if (!plausible) throw new InputError(`${field}: "${name}" is not a valid domain name`);
  return domain;
}

/** Lower-cases and checks `local@domain`; the error names `field` and the bad value. */
export function normalizeAddress(address: string, field = 'address'): ParsedAddress {
  const value = String(address).trim().toLowerCase();
  const at = value.lastIndexOf('@');
  const local = at > 0 ? value.slice(0, at) : '';
  const localOk =
    local.length > 0 && local.length <= 64 && local.split('.').every((atom) => LOCAL_ATOM.test(atom));
  if (!localOk) throw new InputError(`${field}: "${address}" is not a valid mail address`);
  const domain = normalizeDomain(value.slice(at + 1), field);
  return { address: `${local}@${domain}`, local, domain };
}

/** Like normalizeAddress, but null instead of an error: lookups of odd input just find nothing. */
export function tryNormalizeAddress(address: string): ParsedAddress | null {
  try {
    return normalizeAddress(address);
  } catch {
    return null;
  }
}

/** `user+tag@dom` → `user@dom`; null when there is no sub-address to strip. */
export function stripSubAddress(parsed: ParsedAddress): string | null {
  const plus = parsed.local.indexOf('+');
  if (plus <= 0) return null;
  return `${parsed.local.slice(0, plus)}@${parsed.domain}`;
}

/** A mailbox's own addresses, as far as sender checks need them. */
export interface AddressOwner {
  address: string;
  aliases: readonly string[];
}

/** The mailbox's address or one of its aliases, also with a `+tag` sub-address; never the null sender. */
export function ownsAddress(owner: AddressOwner, address: string): boolean {
  const lower = address.toLowerCase();
  if (!lower) return false;
  const base = lower.replace(/\+[^@]*@/, '@');
  const own = [owner.address, ...owner.aliases].map((a) => a.toLowerCase());
  return own.includes(lower) || own.includes(base);
}
