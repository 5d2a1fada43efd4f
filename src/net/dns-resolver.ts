import { Resolver } from 'node:dns/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The DNS settings a plugin that looks things up carries (`auth`, `dnsbl`): which servers to ask
 * and how patiently. An empty server list means the system's resolvers (/etc/resolv.conf).
 */
export const dnsConfigSchema = z
  .strictObject({
    /** Servers as `ip`, `ip:port` or `[ipv6]:port`; empty uses the system resolvers. @defaultValue [] */
    servers: z.array(z.string().trim().min(1)).default([]),
    /** Time for one try of one query, in milliseconds. @defaultValue 2000 */
    timeoutMs: z.number().int().positive().default(2000),
    /** Tries per query and server before giving up. @defaultValue 2 */
    tries: z.number().int().positive().default(2),
  })
  .prefault({});

export type DnsConfig = z.infer<typeof dnsConfigSchema>;

/**
 * A lookup in the shape of `dns.promises.resolve(name, rrtype)` (and so of mailauth's `resolver`
 * option): A/AAAA give strings, TXT gives arrays of strings (one per character-string), MX gives
 * `{ exchange, priority }`. A missing name rejects with code ENOTFOUND, a name without such
 * records with ENODATA; a server fault or timeout with ESERVFAIL / ETIMEOUT / ECONNREFUSED.
 */
export type DnsLookup = (name: string, rrtype: string) => Promise<any>;

/** A resolver with its own server list, so tests and operators can point lookups anywhere. */
export interface DnsClient {
  lookup: DnsLookup;
  /** Cancels queries in flight (plugin close). */
  close(): void;
}

/** Builds a node:dns Resolver from the config; a bad server address is a config error. */
export function createDnsClient(config: DnsConfig, key = 'dns.servers'): DnsClient {
  const resolver = new Resolver({ timeout: config.timeoutMs, tries: config.tries });
  if (config.servers.length > 0) {
    try {
      resolver.setServers(config.servers);
    } catch (err) {
      throw new ConfigError(`${key}: ${(err as Error).message}`);
    }
  }
  return {
    lookup: (name, rrtype) => resolver.resolve(name, rrtype),
    close: () => resolver.cancel(),
  };
}

/** True for the lookup errors that mean "no such record" rather than "could not ask". */
export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}
