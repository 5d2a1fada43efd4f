import { createPublicKey } from 'node:crypto';
import type { DnsLookup } from '../net/dns-resolver.js';
import { isNoRecord } from '../net/dns-resolver.js';

/** Signing algorithms: RSA (RFC 6376, 1024–4096 bits per RFC 8301) or Ed25519 (RFC 8463). */
export type DkimAlgorithm = 'rsa' | 'ed25519';

/** A domain's signing key. */
export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
  algorithm: DkimAlgorithm;
}

/** The DNS name of a key's record: `SELECTOR._domainkey.DOMAIN`. */
export function recordName(key: Pick<DkimKey, 'selector' | 'domain'>): string {
  return `${key.selector}._domainkey.${key.domain}`;
}

/**
 * The `p=` value of a key: for RSA the SubjectPublicKeyInfo (RFC 6376), for Ed25519 the bare
 * 32-byte public key (RFC 8463 §4.2), both base64.
 */
export function publicKeyValue(key: Pick<DkimKey, 'privateKey' | 'algorithm'>): string {
  const der = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  return (key.algorithm === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
}

/** The record's text: `v=DKIM1; k=rsa; p=…`. */
export function recordValue(key: Pick<DkimKey, 'privateKey' | 'algorithm'>): string {
  return `v=DKIM1; k=${key.algorithm}; p=${publicKeyValue(key)}`;
}

/** `SELECTOR._domainkey.DOMAIN. IN TXT ( "v=DKIM1; k=rsa; p=…" )`, split into 255-byte strings. */
export function txtRecord(key: DkimKey): string {
  const value = recordValue(key);
  const strings: string[] = [];
  for (let i = 0; i < value.length; i += 255) strings.push(value.slice(i, i + 255));
  return `${recordName(key)}. IN TXT ( ${strings.map((s) => `"${s}"`).join(' ')} )`;
}

/** What DNS says about a key's record. */
export interface RecordCheck {
  name: string;
  /** `match`: a published record carries this key; `mismatch`: records exist, none with it; `missing`: none. */
  status: 'match' | 'mismatch' | 'missing';
  /** The DKIM records found (character-strings joined). */
  found: string[];
}

/**
 * Looks up the key's TXT record and compares its `p=` and `k=` tags with the key. A lookup that
 * fails (SERVFAIL, timeout) rejects: not knowing is not "missing".
 */
export async function checkRecord(key: DkimKey, lookup: DnsLookup): Promise<RecordCheck> {
  const name = recordName(key);
  let answers: string[][];
  try {
    answers = (await lookup(name, 'TXT')) as string[][];
  } catch (err) {
    if (isNoRecord(err)) return { name, status: 'missing', found: [] };
    throw err;
  }
  const found = answers.map((parts) => parts.join('')).filter((text) => /(^|;)\s*p\s*=/.test(text));
  if (found.length === 0) return { name, status: 'missing', found };
  const expected = publicKeyValue(key);
  const matches = found.some((text) => {
    const tags = parseTags(text);
    return (tags.get('k') ?? 'rsa') === key.algorithm && (tags.get('p') ?? '').replace(/\s+/g, '') === expected;
  });
  return { name, status: matches ? 'match' : 'mismatch', found };
}

/** `v=DKIM1; k=rsa; p=…` → tags (RFC 6376 §3.2 tag-list), names lower-cased. */
function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}
