import { resolvePolicy } from 'mailauth/lib/mta-sts.js';
import type { Logger } from 'pino';
import type { DnsLookup } from '../../net/dns-resolver.js';
import type { MtaStsCacheFile } from './mta-sts-cache-file.js';
import { fetchStsPolicy, type PolicyFetchOptions, type StsPolicy, type StsPolicyDocument } from './mta-sts-fetch.js';

export type { StsPolicy } from './mta-sts-fetch.js';


export interface MtaStsSettings extends PolicyFetchOptions {
  maxAgeCapSeconds: number;
  refreshAfterSeconds: number;
  cacheEntries: number;
  log: Logger;
  /** Keeps the cache across restarts; none keeps it in memory only. */
  cacheFile?: MtaStsCacheFile;
  /** Fetches a policy document; fetchStsPolicy unless a unit test replaces it. */
  fetch?: (domain: string, options: PolicyFetchOptions) => Promise<StsPolicyDocument>;
  now?: () => number;
}

/**
 * The MTA-STS policy of each destination domain (RFC 8461 §3 and §5.1), kept in memory and in
 * delivery.mtaSts.cacheFile:
 * - the `_mta-sts` TXT record is read before each new connection; a policy is fetched when none
 *   is cached, when the record's id differs from the cached one, or when the cached one is older
 *   than refreshAfterSeconds; otherwise the cached policy is used as it is;
 * - a cached policy applies until fetch time + max_age (capped): when the TXT lookup or the fetch
 *   fails, or the TXT record is gone, a policy that has not expired still applies (§3.3, §5.1);
 * - a failed fetch with nothing cached means no policy (§3.3: deliver as if the domain had none),
 *   and the failure is remembered for a minute so a stream of messages does not fetch per message.
 * mailauth reads the TXT record (resolvePolicy) and parses the document; the HTTPS fetch, the
 * cache and the MX matching are Hermod's, because mailauth's fetch always uses port 443 and
 * node's default CAs, and its cache logic refetches a policy that is still fresh.
 */
export class MtaStsPolicies {
  private readonly cache: Map<string, StsPolicy>;
  private readonly failedFetch = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<StsPolicy | null>>();
  private readonly now: () => number;
  private readonly fetch: NonNullable<MtaStsSettings['fetch']>;

  constructor(private readonly settings: MtaStsSettings) {
    this.now = settings.now ?? Date.now;
    this.fetch = settings.fetch ?? fetchStsPolicy;
    this.cache = settings.cacheFile?.load(this.now()) ?? new Map();
  }

  /** The policy to apply to `domain` now, or null (none published, or mode none). */
  async policyFor(domain: string): Promise<StsPolicy | null> {
    const key = domain.toLowerCase();
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.resolve(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    const policy = await running;
    return policy && policy.mode !== 'none' ? policy : null;
  }

  private async resolve(domain: string): Promise<StsPolicy | null> {
    const now = this.now();
    const cached = this.cached(domain, now);
    let id: string | false;
    try {
      id = await resolvePolicy(domain, { resolver: this.settings.lookup } as never);
    } catch (err) {
      this.settings.log.warn({ domain, err: (err as Error).message, cached: !!cached }, 'mta-sts: TXT lookup failed');
      return cached;
    }
    // A withdrawn record does not withdraw a policy that has not expired (§3.2, §5.1).
    if (!id) return cached;
    const stale = cached && now - cached.fetchedAt >= this.settings.refreshAfterSeconds * 1000;
    if (cached && cached.id === id && !stale) return cached;
    if ((this.failedFetch.get(`${domain} ${id}`) ?? 0) > now) return cached;
    return this.refetch(domain, id, cached, now);
  }

  private async refetch(domain: string, id: string, cached: StsPolicy | null, now: number): Promise<StsPolicy | null> {
    try {
      const document = await this.fetch(domain, this.settings);
      const maxAge = Math.min(document.maxAge, this.settings.maxAgeCapSeconds);
      const policy: StsPolicy = { ...document, id, fetchedAt: now, expiresAt: now + maxAge * 1000 };
      this.store(domain, policy);
      this.settings.log.info({ domain, id, mode: policy.mode, mx: policy.mx, maxAge }, 'mta-sts: policy fetched');
      return policy;
    } catch (err) {
      this.failedFetch.set(`${domain} ${id}`, now + 60_000);
      if (this.failedFetch.size > this.settings.cacheEntries) this.failedFetch.delete(this.failedFetch.keys().next().value!);
      const fields = { domain, id, err: (err as Error).message, using: cached ? `cached policy ${cached.id} (${cached.mode})` : 'no policy' };
      this.settings.log.warn(fields, 'mta-sts: policy fetch failed');
      return cached;
    }
  }

  /** The cached policy while it has not expired; a Map kept in use order (least recent first). */
  private cached(domain: string, now: number): StsPolicy | null {
    const policy = this.cache.get(domain);
    if (!policy) return null;
    this.cache.delete(domain);
    if (policy.expiresAt <= now) return null;
    this.cache.set(domain, policy);
    return policy;
  }

  private store(domain: string, policy: StsPolicy): void {
    this.cache.delete(domain);
    this.cache.set(domain, policy);
    if (this.cache.size > this.settings.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.settings.cacheFile?.save(this.cache);
  }
}

/**
 * True when an MX host name matches one of the policy's patterns (RFC 8461 §4.1): equal names,
 * or `*.example.com`, which matches exactly one label in front of `example.com` (not
 * `a.b.example.com`, not `example.com`). Names compare case-insensitively, without a final dot.
 */
export function mxMatches(hostname: string, patterns: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase().replace(/\.$/, '');
    if (!pattern.startsWith('*.')) return pattern === name;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}
