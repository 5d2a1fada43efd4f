import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * ioredis is required on first use, not imported: every plugin reaches this module through the
 * plugin API, and a chain that keeps its state in SQLite or memory should not load a Redis client.
 * `require` rather than `import()` because createRedis is synchronous (plugins call it in init and
 * in constructors); ioredis is a CommonJS package.
 */
const requireLazily = createRequire(import.meta.url);

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
  const { Redis: RedisClient } = requireLazily('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(config.url, {
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
