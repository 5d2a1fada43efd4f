import { z } from 'zod';
import { cidrListSchema, LOOPBACK, redisConfigSchema } from '../../src/plugin-api.js';

const limitFields = (points: number, durationSeconds: number) => ({
  /** Set false to turn this limit off. @defaultValue true */
  enabled: z.boolean().default(true),
  /** Allowed events per window. */
  points: z.number().int().positive().default(points),
  /** Window length in seconds. */
  durationSeconds: z.number().int().positive().default(durationSeconds),
});

export const ratelimitConfigSchema = z.strictObject({
  /** Counters in process memory (one node) or in Redis (shared by all nodes). @defaultValue "memory" */
  store: z.enum(['memory', 'redis']).default('memory'),
  redis: redisConfigSchema,
  /**
   * Per client address: 60 per minute by default, counted per connection (`on: connect`) or per
   * transaction (`on: mail`, the default).
   */
  client: z
    .strictObject({ ...limitFields(60, 60), on: z.enum(['connect', 'mail']).default('mail') })
    .prefault({}),
  /** Per envelope sender (MAIL FROM, any case; the null sender is not limited): 300 per hour by default. */
  sender: z.strictObject(limitFields(300, 3600)).prefault({}),
  /** Clients never limited (the local host by default). @defaultValue loopback */
  allowClients: cidrListSchema(LOOPBACK),
});

export type RatelimitConfig = z.infer<typeof ratelimitConfigSchema>;
