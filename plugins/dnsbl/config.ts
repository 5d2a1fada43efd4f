import { z } from 'zod';
import { cidrListSchema, dnsConfigSchema, LOOPBACK } from '../../src/plugin-api.js';

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'];

const ipv4 = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'a DNSBL answer is an address in 127.0.0.0/8');

const zoneSchema = z.strictObject({
  /** The list's DNS zone, e.g. `zen.spamhaus.org` or `list.dnswl.org`. */
  zone: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a DNS zone like bl.example.org'),
  /** Score when listed: positive for a blocklist, negative for a allowlist (DNSWL). */
  weight: z.number(),
  /**
   * Weights by answer address, e.g. `{ "127.0.0.2": 4, "127.0.0.10": 1 }`. When given, only these
   * answers count; without it any 127.0.0.0/8 answer counts with `weight`. @defaultValue {}
   */
  answers: z.record(ipv4, z.number()).default({}),
});

export type DnsblZone = z.infer<typeof zoneSchema>;

export const dnsblConfigSchema = z.strictObject({
  /** Lists to ask, all in parallel. @defaultValue [] */
  zones: z.array(zoneSchema).default([]),
  /** Where the lookups go. @defaultValue system resolvers */
  dns: dnsConfigSchema,
  /** Client addresses never looked up (loopback and private ranges: lists do not hold them). */
  skipClients: cidrListSchema([...LOOPBACK, ...PRIVATE]),
  /** How long a client's answers are reused for its next transactions, in seconds. @defaultValue 300 */
  cacheSeconds: z.number().int().min(0).default(300),
});

export type DnsblConfig = z.infer<typeof dnsblConfigSchema>;
