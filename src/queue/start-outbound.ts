import { join } from 'node:path';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { MessageStore } from '../store/message-store.js';
import type { TransactionCore } from '../transaction/transaction-core.js';
import { AttemptRunner, type Remote } from './attempt-runner.js';
import { Bouncer, type NoticeCounter } from './bouncer.js';
import { LocalDeliverer } from './delivery/local-deliverer.js';
import type { DeliveryRequest, RemoteAttempt, RemoteDeliverer } from './delivery/remote-deliverer.js';
import { DeliveryWorker } from './delivery-worker.js';
import { MemoryDestinationLimiter, RedisDestinationLimiter, type DestinationLimiter } from './destination-limiter.js';
import { dkimKeysOf } from './dkim-lifecycle.js';
import { DkimSigner } from './dkim-signer.js';
import { openOutboundQueue } from './open-queue.js';
import type { OutboundQueue } from './outbound-queue.js';
import { OutboundService } from './outbound-service.js';
import { RetryPolicy } from './retry-policy.js';

/** The outbound side of a running Hermod: queue, the way in, and the delivery worker. */
export interface RunningOutbound {
  queue: OutboundQueue;
  service: OutboundService;
  worker: DeliveryWorker;
  /** Stops the worker (waiting up to shutdownTimeoutMs for attempts in flight) and closes the queue. */
  close(): Promise<void>;
}

export interface OutboundDeps {
  config: HermodConfig;
  store: MessageStore;
  /** Local recipients are delivered through the same transaction core as inbound mail. */
  transactions: TransactionCore;
  log: Logger;
  /** Replaces the remote deliverer (benchmarks of the queue alone); tests use the real one. */
  remote?: Remote;
  /** Counts notices that could not be built, for /metrics. */
  counter?: NoticeCounter;
}

/** Opens the queue and starts the delivery worker. */
export async function startOutbound(deps: OutboundDeps): Promise<RunningOutbound> {
  const { config, store, transactions } = deps;
  const log = deps.log.child({ component: 'outbound' });
  const queue = await openOutboundQueue(config);
  const limiter = await createLimiter(config);
  const service = new OutboundService(queue, store, log);
  const policy = new RetryPolicy(config.queue.retry, config.queue.delayWarningMs);
  const signer = config.dkim.enabled ? new DkimSigner(dkimKeysOf(config), log) : undefined;
  const remote = new LazyRemote(config, log);
  const runner = new AttemptRunner({
    queue,
    local: new LocalDeliverer(transactions, config.hostname),
    remote: deps.remote ?? remote,
    signer,
    policy,
    bouncer: new Bouncer((s) => service.prepare(s), policy, config.hostname, log, deps.counter),
    log,
  });
  const q = config.queue;
  const worker = new DeliveryWorker({
    queue,
    limiter,
    runner,
    log,
    slots: q.workers,
    pollMs: q.pollMs,
    leaseMs: q.leaseMs,
    attemptTimeoutMs: q.attemptTimeoutMs,
  });
  const submit = service.submit.bind(service);
  // A message queued in this process is tried at once rather than at the next poll.
  service.submit = async (s) => {
    const result = await submit(s);
    worker.poke(result.jobs.length);
    return result;
  };
  worker.start();
  return {
    queue,
    service,
    worker,
    async close() {
      await worker.stop(config.shutdownTimeoutMs);
      await remote.close();
      await limiter.close();
      await queue.close();
    },
  };
}

/**
 * The remote deliverer, loaded at the first message for a remote domain: mx-connect and
 * nodemailer's SMTP client are then imported, so a node that only receives never loads them.
 */
class LazyRemote implements Remote {
  private deliverer: Promise<RemoteDeliverer> | undefined;

  constructor(
    private readonly config: HermodConfig,
    private readonly log: Logger,
  ) {}

  async deliver(request: DeliveryRequest): Promise<RemoteAttempt> {
    this.deliverer ??= import('./delivery/remote-deliverer.js').then((m) => new m.RemoteDeliverer(this.config, this.log));
    return (await this.deliverer).deliver(request);
  }

  async close(): Promise<void> {
    if (this.deliverer) (await this.deliverer).close();
  }
}

/** The per-destination limiter; ioredis is imported only for the BullMQ queue, which shares limits through Redis. */
async function createLimiter(config: HermodConfig): Promise<DestinationLimiter> {
  const q = config.queue;
  if (q.driver !== 'bullmq') return new MemoryDestinationLimiter(q.perDestination);
  const { Redis } = await import('ioredis');
  const redis = new Redis(q.bullmq.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const limiter = new RedisDestinationLimiter(redis, `${q.bullmq.prefix}:${q.bullmq.name}`, q.perDestination, q.leaseMs);
  return {
    acquire: (domain) => limiter.acquire(domain),
    close: async () => redis.disconnect(),
  };
}
