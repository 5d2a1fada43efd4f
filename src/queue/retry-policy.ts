import type { QueueConfig } from './config-schema.js';

/**
 * When to try again, when to warn the sender and when to give up: Postfix's schedule (first
 * retry after `firstMs`, each delay `factor` times the last, at most `maxIntervalMs` apart, give
 * up `giveUpMs` after arrival), with the config's numbers so tests can run it in milliseconds.
 */
export class RetryPolicy {
  constructor(
    private readonly retry: QueueConfig['retry'],
    private readonly delayWarningMs: number,
  ) {}

  /** Delay after the given number of failed attempts (1 → firstMs). */
  delayAfter(attempts: number): number {
    const delay = this.retry.firstMs * this.retry.factor ** Math.max(0, attempts - 1);
    return Math.min(delay, this.retry.maxIntervalMs);
  }

  /**
   * The next attempt after `attempts` failures, or null when the message has been queued too
   * long: the next attempt would start after the give-up age (it is tried once more at that age).
   */
  nextAttempt(createdAt: number, attempts: number, now: number): number | null {
    const expiresAt = createdAt + this.retry.giveUpMs;
    if (now >= expiresAt) return null;
    return Math.min(now + this.delayAfter(attempts), expiresAt);
  }

  /** True when the sender should now be told the message is delayed (once, never for <>). */
  shouldWarn(createdAt: number, now: number, alreadyWarned: boolean, sender: string): boolean {
    return this.delayWarningMs > 0 && !alreadyWarned && sender !== '' && now - createdAt >= this.delayWarningMs;
  }

  /** Epoch ms after which the message bounces, for the DSN's Will-Retry-Until. */
  expiresAt(createdAt: number): number {
    return createdAt + this.retry.giveUpMs;
  }
}
