import { z } from 'zod';
import { cidrListSchema, dnsConfigSchema } from '../../src/plugin-api.js';

/** The scored outcomes, in the order they are checked and listed. */
export const AUTH_RULES = [
  'SPF_PASS',
  'SPF_FAIL',
  'SPF_SOFTFAIL',
  'SPF_NEUTRAL',
  'SPF_NONE',
  'SPF_PERMERROR',
  'DKIM_PASS_ALIGNED',
  'DKIM_FAIL',
  'DMARC_PASS',
  'DMARC_FAIL_NONE',
  'DMARC_FAIL_QUARANTINE',
  'DMARC_FAIL_REJECT',
  'DMARC_ARC_OVERRIDE',
  'ARC_FAIL',
  'AUTH_RESULTS_FORGED',
] as const;

export type AuthRule = (typeof AUTH_RULES)[number];

/**
 * Default score per outcome, on the scale of the core `scoring` thresholds (5 / 8 / 15). A DMARC
 * failure is scored by the policy the domain publishes: p=reject alone reaches `scoring.junk`.
 */
export const DEFAULT_AUTH_SCORES: Readonly<Record<AuthRule, number>> = {
  SPF_PASS: 0,
  SPF_FAIL: 2,
  SPF_SOFTFAIL: 1,
  SPF_NEUTRAL: 0,
  SPF_NONE: 0.5,
  SPF_PERMERROR: 0.5,
  DKIM_PASS_ALIGNED: -0.5,
  DKIM_FAIL: 1,
  DMARC_PASS: -1,
  DMARC_FAIL_NONE: 1,
  DMARC_FAIL_QUARANTINE: 5,
  DMARC_FAIL_REJECT: 8,
  DMARC_ARC_OVERRIDE: 0,
  ARC_FAIL: 1,
  AUTH_RESULTS_FORGED: 3,
};

export const authConfigSchema = z.strictObject({
  /** Where SPF, DKIM, DMARC and ARC lookups go. @defaultValue system resolvers */
  dns: dnsConfigSchema,
  /** The authserv-id in Authentication-Results; empty uses Hermod's `hostname`. @defaultValue "" */
  authservId: z.string().trim().default(''),
  /** Smallest RSA key (bits) a DKIM or ARC signature may use to pass. @defaultValue 1024 */
  minBitLength: z.number().int().positive().default(1024),
  /** Prepend Received-SPF and Authentication-Results to the stored copy. @defaultValue true */
  addHeaders: z.boolean().default(true),
  /**
   * Relays that hand mail over without a PROXY header (Postfix on the same host). From these, the
   * client address and HELO for SPF come from the topmost Received header instead. @defaultValue []
   */
  relays: cidrListSchema([]),
  arc: z
    .strictObject({
      /** ARC sealers (signing domains) whose passing chain overrides a DMARC failure. @defaultValue [] */
      trustedSealers: z.array(z.string().trim().toLowerCase()).default([]),
    })
    .prefault({}),
  /** Score overrides by outcome name, e.g. `{ DMARC_FAIL_REJECT: 12 }`. @defaultValue {} */
  scores: z.partialRecord(z.enum(AUTH_RULES), z.number()).default({}),
});

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** The score an outcome gives under this config. */
export function authScore(config: AuthConfig, rule: AuthRule): number {
  return config.scores[rule] ?? DEFAULT_AUTH_SCORES[rule];
}
