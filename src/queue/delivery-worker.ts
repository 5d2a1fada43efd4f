import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AttemptReport, AttemptRunner } from './attempt-runner.js';
import type { DestinationLimiter } from './destination-limiter.js';
import type { OutboundQueue } from './outbound-queue.js';
import type { Lease } from './types.js';

export interface DeliveryWorkerOptions {
  queue: OutboundQueue;
  limiter: DestinationLimiter;
  runner: AttemptRunner;
  log: Logger;
  /** Deliveries in flight at once. */
  slots: number;
  pollMs: number;
  /** Length of a lease; renewed every third of it while an attempt runs. */
  leaseMs: number;
  /** Longest time one attempt may take; then it is aborted (its connection dropped). */
  attemptTimeoutMs: number;
}

/**
 * Takes due jobs off the queue and runs one attempt each, `slots` at a time. A destination at
 * its concurrency or rate limit gets the job back shortly, with no attempt counted. Emits
 * `attempt` (AttemptReport) after each attempt.
 *
 * While an attempt runs its lease is renewed every `leaseMs / 3`, so no other worker can take
 * the job while a slow peer thinks: one job, one attempt at a time. Each attempt is cut off at
 * `attemptTimeoutMs`; renewals happen until then, so the lease always outlives the attempt. A
 * renewal that finds the lease gone (the process stalled for longer than a lease) aborts the
 * attempt at once, and the queue refuses its settlement: the new holder's result stands alone.
 */
export class DeliveryWorker extends EventEmitter {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  /** Idle loops waiting for a poke or their next poll, in the order they went idle. */
  private readonly wake = new Set<() => void>();

  constructor(private readonly options: DeliveryWorkerOptions) {
    super();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.slots; i++) this.loops.push(this.loop());
  }

  /**
   * Ends idle waits early: `jobs` were just queued, so that many idle loops look for work (all of
   * them when not given). Waking every loop for one job made each enqueue cost a claim per idle
   * loop, a Redis round trip each with BullMQ.
   */
  poke(jobs = Infinity): void {
    let left = jobs;
    for (const w of this.wake) {
      if (left-- <= 0) break;
      w();
    }
  }

  /** Stops taking jobs and waits for attempts in flight (their leases lapse if this times out). */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.poke();
    await Promise.race([Promise.allSettled(this.loops), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.loops.length = 0;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let lease: Lease | null = null;
      try {
        lease = await this.options.queue.claim(this.options.leaseMs);
      } catch (err) {
        this.options.log.error({ err }, 'queue claim failed');
      }
      if (!lease) {
        await this.idle();
        continue;
      }
      await this.process(lease);
    }
  }

  private async process(lease: Lease): Promise<void> {
    const { queue, limiter, log } = this.options;
    try {
      // The body is read while the slot is asked for: two round trips at once on a Redis queue.
      const body = queue.readBody(lease.job.messageId);
      body.catch(() => undefined);
      const release = await limiter.acquire(lease.job.domain);
      if (!release) {
        await queue.postpone(lease, Date.now() + 100 + Math.floor(Math.random() * 400));
        return;
      }
      try {
        const report: AttemptReport = await this.attempt(lease, body);
        this.emit('attempt', report);
      } finally {
        // Not awaited: the next claim need not wait for the slot's round trip, and a shared
        // limiter sends it on its connection before any later acquire of this process.
        release().catch((err: unknown) => log.warn({ err, domain: lease.job.domain }, 'destination slot release failed'));
      }
    } catch (err) {
      log.error({ err, queueId: lease.job.id }, 'delivery attempt could not be recorded');
    }
  }

  private async attempt(lease: Lease, body: Promise<Buffer | null>): Promise<AttemptReport> {
    const { queue, leaseMs, attemptTimeoutMs, log } = this.options;
    const control = new AbortController();
    const deadline = setTimeout(() => control.abort(new Error(`attempt deadline reached after ${attemptTimeoutMs} ms`)), attemptTimeoutMs);
    const renewer = setInterval(() => {
      queue.renew(lease, leaseMs).catch((err: { code?: string }) => {
        log.warn({ err, queueId: lease.job.id }, 'lease renewal failed');
        if (err.code === 'HERMOD_QUEUE_LEASE') control.abort(new Error('lease lost to another worker'));
      });
    }, Math.max(10, Math.floor(leaseMs / 3)));
    try {
      return await this.options.runner.run(lease, Date.now(), control.signal, body);
    } finally {
      clearTimeout(deadline);
      clearInterval(renewer);
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      // A loop whose poll fired leaves the set, so a later poke is not spent on it.
      const done = (): void => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs);
      this.wake.add(done);
    });
  }
}
