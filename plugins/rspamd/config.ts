import { z } from 'zod';

export const rspamdConfigSchema = z.strictObject({
  /** rspamd's normal worker. @defaultValue "127.0.0.1" */
  host: z.string().trim().min(1).default('127.0.0.1'),
  /** @defaultValue 11333 */
  port: z.number().int().min(1).max(65535).default(11333),
  /** Time for one scan; keep it below the plugin entry's `timeoutMs`. @defaultValue 4000 */
  timeoutMs: z.number().int().positive().default(4000),
  /** Multiplier from rspamd's score to Hermod's scale (rspamd's reject is 15, like Hermod's). @defaultValue 1 */
  weight: z.number().min(0).default(1),
  /** Larger messages are not sent (reported as skipped). @defaultValue 20971520 */
  maxBytes: z.number().int().positive().default(20 * 1024 * 1024),
  /** Sent as the Password header, for a worker that asks for one. @defaultValue "" */
  password: z.string().default(''),
});

export type RspamdConfig = z.infer<typeof rspamdConfigSchema>;
