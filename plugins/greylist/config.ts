import { z } from 'zod';
import { cidrListSchema, LOOPBACK, redisConfigSchema } from '../../src/plugin-api.js';

export const greylistConfigSchema = z.strictObject({
  /** Where triplets live: `sqlite` (a file in dataDir, one node) or `redis` (shared by all nodes). @defaultValue "sqlite" */
  store: z.enum(['sqlite', 'redis']).default('sqlite'),
  sqlite: z
    .strictObject({
      /** File for the embedded store, relative to `dataDir`. @defaultValue "greylist.sqlite" */
      file: z.string().trim().min(1).default('greylist.sqlite'),
    })
    .prefault({}),
  redis: redisConfigSchema,
  /** Seconds a new triplet must wait before a retry is accepted. @defaultValue 300 */
  delaySeconds: z.number().int().min(0).default(300),
  /** Seconds after the first attempt within which the retry must come; later starts over. @defaultValue 86400 */
  retryWindowSeconds: z.number().int().positive().default(24 * 3600),
  /** Seconds a triplet that passed stays accepted without delay, renewed by each message. @defaultValue 3024000 */
  passSeconds: z.number().int().positive().default(35 * 24 * 3600),
  /** The client network in the triplet: IPv4 prefix length (senders retry from pools). @defaultValue 24 */
  ipv4Prefix: z.number().int().min(8).max(32).default(24),
  /** The client network in the triplet: IPv6 prefix length. @defaultValue 64 */
  ipv6Prefix: z.number().int().min(16).max(128).default(64),
  /** Clients never greylisted (the local host by default). @defaultValue loopback */
  allowClients: cidrListSchema(LOOPBACK),
  /** Recipient addresses never greylisted (e.g. postmaster@…), any case. @defaultValue [] */
  allowRecipients: z.array(z.string().trim().toLowerCase()).default([]),
  /**
   * Skip greylisting when the evidence so far (dnsbl at the mail stage: a DNSWL listing) sums to
   * less than this score. null never skips. @defaultValue null
   */
  skipBelowScore: z.number().nullable().default(null),
});

export type GreylistConfig = z.infer<typeof greylistConfigSchema>;
