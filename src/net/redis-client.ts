import { Redis } from 'ioredis';
import { z } from 'zod';

/** Redis settings of a plugin that can keep its state there (greylist, ratelimit). */
export const redisConfigSchema = z
  .strictObject({
    /** `redis://[:password@]host:port/db`. @defaultValue "redis://127.0.0.1:6379" */
    url: z.string().trim().min(1).default('redis://127.0.0.1:6379'),
    /** Prefix of every key the plugin writes. @defaultValue "hermod:" */
    keyPrefix: z.string().default('hermod:'),
  })
  .prefault({});

export type RedisConfig = z.infer<typeof redisConfigSchema>;

/**
 * A client that connects on first use and fails a command quickly while Redis is away (one retry),
 * so a hook throws and the runner answers with a tempfail, or continues when the plugin is failOpen.
 */
export function createRedis(config: RedisConfig): Redis {
  const redis = new Redis(config.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  // Connection errors reach the hooks as failed commands (and so the ledger); the event itself
  // would otherwise be printed by ioredis for every reconnect attempt.
  redis.on('error', () => undefined);
  return redis;
}

export type { Redis };
