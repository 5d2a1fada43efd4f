import type { Redis } from 'ioredis';

/**
 * Message bodies for the BullMQ driver: one Redis key per message, whatever the number of jobs,
 * with a count of the jobs that still refer to it. Jobs carry only the message id, so a message
 * to fifty domains is stored once, not fifty times.
 */
export class RedisSpool {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private bodyKey(messageId: string): string {
    return `${this.keyPrefix}:spool:${messageId}`;
  }

  private refsKey(messageId: string): string {
    return `${this.keyPrefix}:spool:${messageId}:jobs`;
  }

  /** Stores the body with `jobs` references, in one MULTI. */
  async put(messageId: string, raw: Buffer, jobs: number): Promise<void> {
    await this.redis.multi().set(this.bodyKey(messageId), raw).set(this.refsKey(messageId), String(jobs)).exec();
  }

  async get(messageId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.bodyKey(messageId));
  }

  /** Drops one reference; the last one takes the body with it (atomically, in Lua). */
  async release(messageId: string): Promise<void> {
    await this.redis.eval(
      `local n = redis.call('DECR', KEYS[2])
       if n <= 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
       return n`,
      2,
      this.bodyKey(messageId),
      this.refsKey(messageId),
    );
  }

  /** Removes the body whatever its count (enqueue failed half-way). */
  async drop(messageId: string): Promise<void> {
    await this.redis.del(this.bodyKey(messageId), this.refsKey(messageId));
  }
}
