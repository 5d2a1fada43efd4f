import { z } from 'zod';

export const spamassassinConfigSchema = z.strictObject({
  /** spamd's address. @defaultValue "127.0.0.1" */
  host: z.string().trim().min(1).default('127.0.0.1'),
  /** @defaultValue 783 */
  port: z.number().int().min(1).max(65535).default(783),
  /** Time for one scan; keep it below the plugin entry's `timeoutMs`. @defaultValue 4000 */
  timeoutMs: z.number().int().positive().default(4000),
  /** Multiplier from SpamAssassin's score (required 5.0 by default) to Hermod's scale. @defaultValue 1 */
  weight: z.number().min(0).default(1),
  /** `REPORT` gives each rule's score; `SYMBOLS` only the rule names (less work for spamd). @defaultValue "REPORT" */
  command: z.enum(['REPORT', 'SYMBOLS']).default('REPORT'),
  /** Sent as the User header (spamd's per-user settings). @defaultValue "" */
  user: z.string().default(''),
  /** Larger messages are not sent (spamc's default limit is 500 KB). @defaultValue 512000 */
  maxBytes: z.number().int().positive().default(500 * 1024),
});

export type SpamassassinConfig = z.infer<typeof spamassassinConfigSchema>;
