import { join } from 'node:path';
import { HermodError, NotFoundError } from '../errors.js';
import type { DnsLookup } from '../net/dns-resolver.js';
import type { DkimConfig } from './config-schema.js';
import { DkimKeys } from './dkim-keys.js';
import { checkRecord, type RecordCheck } from './dkim-record.js';

/**
 * The DKIM key lifecycle as operations an admin surface calls (the `hermod dkim` commands, an
 * HTTP admin API): generate (inactive) → publish → check → activate → remove the old key.
 */

/** The key store of a configuration: `<dataDir>/<dkim.keyDir>`. */
export function dkimKeysOf(config: { dataDir: string; dkim: DkimConfig }): DkimKeys {
  return new DkimKeys(join(config.dataDir, config.dkim.keyDir));
}

/** A key's record as DNS has it now, compared with the key. */
export async function checkDkimKey(keys: DkimKeys, domain: string, selector: string, lookup: DnsLookup): Promise<RecordCheck> {
  return checkRecord(keys.get(domain, selector), lookup);
}

/** The outcome of an activation. */
export interface Activation {
  domain: string;
  selector: string;
  /** The key that signed before, still on disk (and verifying) until removed. */
  previous: string | null;
  /** The DNS check made first, when one was asked for. */
  check?: RecordCheck;
}

/**
 * Switches signing for the domain to `selector`. With `lookup`, first checks that the published
 * TXT record carries the key and refuses (HERMOD_DKIM_UNPUBLISHED, nothing changed) when it does not: mail
 * signed with an unpublished key fails DKIM everywhere.
 */
export async function activateDkimKey(keys: DkimKeys, domain: string, selector: string, lookup?: DnsLookup): Promise<Activation> {
  const key = keys.get(domain, selector);
  let check: RecordCheck | undefined;
  if (lookup) {
    check = await checkRecord(key, lookup);
    if (check.status !== 'match') {
      const what = check.status === 'missing' ? 'has no DKIM record' : 'holds a different key';
      throw new HermodError('HERMOD_DKIM_UNPUBLISHED', `${check.name} ${what}; publish the record (hermod dkim show ${key.domain} ${key.selector}) and try again`);
    }
  }
  const { previous } = keys.activate(key.domain, key.selector);
  return { domain: key.domain, selector: key.selector, previous, ...(check ? { check } : {}) };
}

/** The record to publish for a key: the selector given, else the active key, else the newest. */
export function recordKeyOf(keys: DkimKeys, domain: string, selector?: string) {
  if (selector) return keys.get(domain, selector);
  const all = keys.list(domain);
  const chosen = all.find((k) => k.active) ?? all[all.length - 1];
  if (!chosen) throw new NotFoundError(`no DKIM key for ${domain} (create one with: hermod dkim generate ${domain})`);
  return keys.get(domain, chosen.selector);
}
