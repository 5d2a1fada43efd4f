import { createRedis, type Redis, type RedisConfig } from '../../src/plugin-api.js';
import type { GreylistStore } from './store.js';
import type { TripletRecord } from './triplet.js';

/** Triplets in Redis, shared by every Hermod node; Redis expires each key when it may be forgotten. */
export class RedisGreylistStore implements GreylistStore {
  private readonly redis: Redis;

  constructor(private readonly config: RedisConfig) {
    this.redis = createRedis(config);
  }

  private key(triplet: string): string {
    return `${this.config.keyPrefix}greylist:${triplet}`;
  }

  async get(triplet: string): Promise<TripletRecord | undefined> {
    const value = await this.redis.get(this.key(triplet));
    return value ? (JSON.parse(value) as TripletRecord) : undefined;
  }

  async put(triplet: string, record: TripletRecord, expiresAt: number): Promise<void> {
    const ttl = Math.max(1, expiresAt - Date.now());
    await this.redis.set(this.key(triplet), JSON.stringify(record), 'PX', ttl);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
