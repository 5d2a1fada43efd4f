import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { QueueConfig } from './config-schema.js';

/** A slot for one delivery to a domain; give it back when the attempt is over. */
export type Release = () => Promise<void>;

/**
 * Per-destination concurrency and rate limits. `acquire` answers at once: a slot, or null when
 * the domain is at its limit (the worker then postpones the job briefly without counting an
 * attempt, as Postfix's qmgr holds mail back for a busy destination).
 */
export interface DestinationLimiter {
  acquire(domain: string): Promise<Release | null>;
  close(): Promise<void>;
}

/** The limits of one domain, from `queue.perDestination`. */
export function limitsFor(config: QueueConfig['perDestination'], domain: string): { concurrency: number; ratePerMinute: number } {
  const own = config.domains[domain] ?? {};
  return { concurrency: own.concurrency ?? config.concurrency, ratePerMinute: own.ratePerMinute ?? config.ratePerMinute };
}

/** In-process limits, for the SQLite driver (one delivering process per queue file). */
export class MemoryDestinationLimiter implements DestinationLimiter {
  private readonly active = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly config: QueueConfig['perDestination']) {}

  async acquire(domain: string): Promise<Release | null> {
    const { concurrency, ratePerMinute } = limitsFor(this.config, domain);
    const busy = this.active.get(domain) ?? 0;
    if (busy >= concurrency) return null;
    if (ratePerMinute > 0) {
      const now = Date.now();
      const window = this.windows.get(domain);
      const current = window && now - window.start < 60_000 ? window : { start: now, count: 0 };
      if (current.count >= ratePerMinute) return null;
      current.count += 1;
      this.windows.set(domain, current);
    }
    this.active.set(domain, busy + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const n = (this.active.get(domain) ?? 1) - 1;
      if (n <= 0) this.active.delete(domain);
      else this.active.set(domain, n);
    };
  }

  async close(): Promise<void> {}
}

/**
 * Limits shared by every node through Redis, for the BullMQ driver. Concurrency is a sorted set
 * of slot tokens scored by expiry (a node that dies frees its slots after `slotTtlMs`); the rate
 * is a counter per domain and minute. Both checks and the take are one Lua script.
 */
export class RedisDestinationLimiter implements DestinationLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly config: QueueConfig['perDestination'],
    private readonly slotTtlMs: number,
  ) {}

  async acquire(domain: string): Promise<Release | null> {
    const { concurrency, ratePerMinute } = limitsFor(this.config, domain);
    const now = Date.now();
    const token = randomUUID();
    const slots = `${this.prefix}:dest:${domain}:slots`;
    const rate = `${this.prefix}:dest:${domain}:rate:${Math.floor(now / 60_000)}`;
    const ok = await this.redis.eval(ACQUIRE, 2, slots, rate, now, concurrency, ratePerMinute, token, now + this.slotTtlMs);
    if (ok !== 1) return null;
    return async () => {
      await this.redis.zrem(slots, token);
    };
  }

  async close(): Promise<void> {}
}

const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[3]) > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= tonumber(ARGV[3]) then return 0 end
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], 120000)
end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[5]) - tonumber(ARGV[1]), 1000))
return 1
`;
