import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { HermodError, QueueError } from '../../errors.js';
import { byAge, matchesSelector, type OutboundQueue } from '../outbound-queue.js';
import { newRecipients, type Deferral, type JobSelector, type JobState, type Lease, type NewOutboundMessage, type QueueJob, type SentRecord } from '../types.js';
import { RedisSpool } from './redis-spool.js';

/** Options for {@link BullmqQueue}. */
export interface BullmqQueueOptions {
  url: string;
  /** Prefix of every Redis key (BullMQ's and Hermod's own). */
  prefix: string;
  /** BullMQ queue name. */
  name: string;
  /** Lock time of a claimed job; a worker that dies loses its jobs after this. @defaultValue 600000 */
  leaseMs?: number;
  /** How often lapsed locks are looked for. @defaultValue 30000 */
  stalledIntervalMs?: number;
}

/**
 * What a BullMQ job carries: the QueueJob without its state, which BullMQ itself knows, and the
 * notices of a settlement under way (see `settleWithNotices`).
 */
type JobData = Omit<QueueJob, 'state'> & { notices?: StoredNotice[] };

/** A notice (bounce, delay warning) waiting in its job's data, body in base64. */
type StoredNotice = Omit<NewOutboundMessage, 'raw'> & { raw: string };

/** Writes a job's data only while the given token holds its lock: the fence against a stale attempt. */
const FENCED_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'data', ARGV[2])
return 1
`;

const JOB_NAME = 'deliver';
/** Far above any worker count: only leases whose attempt never settled accumulate. */
const MAX_CACHED_LEASES = 10_000;
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;

/**
 * The outbound queue on Redis through BullMQ, shared by every Hermod node. Jobs are fetched by
 * hand (`Worker.getNextJob`), so the delivery worker is the same for both drivers; deferred jobs
 * are BullMQ delayed jobs; held jobs leave BullMQ for a hash of their own (BullMQ has no "hold").
 */
export class BullmqQueue implements OutboundQueue {
  readonly driver = 'bullmq' as const;
  private readonly redis: Redis;
  private readonly queue: Queue;
  private readonly spool: RedisSpool;
  private readonly heldKey: string;
  private worker: Worker | null = null;
  /**
   * The BullMQ job of each lease this process holds, by lock token, so settling it does not
   * fetch the job again (one Redis round trip less per attempt). Entries leave when settled.
   */
  private readonly claimed = new Map<string, Job<JobData>>();
  /** The worker's own connection: BullMQ leaves a connection it was given open, so close() ends it. */
  private workerRedis: Redis | null = null;

  constructor(private readonly options: BullmqQueueOptions) {
    // Auto-pipelining sends the commands of one event-loop turn (twenty workers settling,
    // reading bodies, enqueueing) in one write: on loopback the syscall per command was the cost.
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true, enableAutoPipelining: true });
    this.redis.on('error', () => undefined);
    this.queue = new Queue(options.name, { connection: this.redis, prefix: options.prefix });
    this.queue.on('error', () => undefined);
    const base = `${options.prefix}:${options.name}`;
    this.spool = new RedisSpool(this.redis, base);
    this.heldKey = `${base}:held`;
  }

  async init(): Promise<void> {
    await this.wrap('open', () => this.queue.waitUntilReady());
  }

  async close(): Promise<void> {
    this.claimed.clear();
    await this.worker?.close(true);
    await this.queue.close();
    this.workerRedis?.disconnect();
    this.redis.disconnect();
  }

  async enqueue(message: NewOutboundMessage): Promise<QueueJob[]> {
    const createdAt = message.createdAt ?? Date.now();
    const jobs: QueueJob[] = message.destinations.map((dest, i) => ({
      id: `${message.messageId}.${i + 1}`,
      messageId: message.messageId,
      domain: dest.domain.toLowerCase(),
      sender: message.sender,
      recipients: newRecipients(dest.recipients, message.recipientDsn),
      state: 'queued',
      attempts: 0,
      createdAt,
      nextAttemptAt: createdAt,
      lastAttemptAt: null,
      lastError: null,
      delayWarned: false,
      size: message.raw.length,
      local: dest.local,
      ...(message.dsn ? { dsn: message.dsn } : {}),
    }));
    return this.wrap('enqueue', async () => {
      await this.spool.put(message.messageId, message.raw, jobs.length);
      try {
        await this.queue.addBulk(jobs.map((job) => ({ name: JOB_NAME, data: dataOf(job), opts: { ...JOB_OPTIONS, jobId: job.id } })));
      } catch (err) {
        await this.spool.drop(message.messageId);
        throw err;
      }
      return jobs;
    });
  }

  async readBody(messageId: string): Promise<Buffer | null> {
    return this.wrap('readBody', () => this.spool.get(messageId));
  }

  async claim(leaseMs: number): Promise<Lease | null> {
    return this.wrap('claim', async () => {
      const worker = await this.ensureWorker(leaseMs);
      for (;;) {
        const token = randomUUID();
        const job = (await worker.getNextJob(token, { block: false })) as Job<JobData> | undefined;
        if (!job) return null;
        if (leaseMs !== (this.options.leaseMs ?? 600_000)) await job.extendLock(token, leaseMs);
        const lease = await this.resume(job, token);
        if (lease) return lease;
      }
    });
  }

  /**
   * Takes over a claimed job. Should its last holder have stopped between recording its notices
   * and settling, that step is finished first: the notices are queued, and a job whose record
   * says it was done is completed here (null: the caller claims the next one).
   */
  private async resume(job: Job<JobData>, token: string): Promise<Lease | null> {
    const { notices, ...data } = job.data;
    if (notices) {
      await this.queueNotices(notices);
      if (data.sent) {
        await job.moveToCompleted('done', token, false);
        await this.spool.release(data.messageId);
        return null;
      }
      await this.fencedWrite(job.id!, token, data);
      job.data = data;
    }
    this.claimed.set(token, job);
    // A lease never settled (its attempt threw) must not pin its job here for ever.
    if (this.claimed.size > MAX_CACHED_LEASES) this.claimed.delete(this.claimed.keys().next().value!);
    return { job: { ...data, state: 'active' }, token };
  }

  /** One fenced HSET: the replies are in the job before anything else happens to it. */
  async record(lease: Lease, sent: SentRecord): Promise<void> {
    await this.wrap('record', async () => {
      const job = this.claimed.get(lease.token) ?? ((await this.queue.getJob(lease.job.id)) as Job<JobData> | undefined);
      if (!job || job.id !== lease.job.id) throw leaseLost(lease.job.id, 'removed');
      const data: JobData = { ...job.data, sent };
      await this.fencedWrite(job.id, lease.token, data);
      job.data = data;
    });
  }

  async renew(lease: Lease, leaseMs: number): Promise<void> {
    await this.wrap('renew', async () => {
      const ok = await this.queue.getJob(lease.job.id).then((job) => (job ? job.extendLock(lease.token, leaseMs) : 0));
      if (ok !== 1) throw leaseLost(lease.job.id, 'lock not held');
    });
  }

  async complete(lease: Lease, notices: NewOutboundMessage[] = []): Promise<void> {
    await this.withLease(lease, async (job) => {
      // Without notices there is nothing to record first: the job is removed, and
      // moveToCompleted itself refuses a token that no longer holds the lock.
      // The notices stay in the job's data until it is removed: with its record beside them, a
      // next claim completes the job rather than settling from the record a second time.
      if (notices.length > 0) await this.settleWithNotices(job, lease, job.data, notices, false);
      await job.moveToCompleted('done', lease.token, false);
      await this.spool.release(lease.job.messageId);
    });
  }

  async defer(lease: Lease, d: Deferral, notices: NewOutboundMessage[] = []): Promise<void> {
    await this.withLease(lease, async (job) => {
      const { sent: _sent, ...before } = job.data;
      const data: JobData = {
        ...before,
        recipients: d.recipients,
        attempts: job.data.attempts + 1,
        nextAttemptAt: d.nextAttemptAt,
        lastAttemptAt: Date.now(),
        lastError: d.lastError,
        delayWarned: d.delayWarned,
      };
      await this.settleWithNotices(job, lease, data, notices);
      await job.moveToDelayed(d.nextAttemptAt, lease.token);
    });
  }

  /**
   * The durable step of a settlement. One fenced HSET records the attempt's results together with
   * its notices in the job; from then on the notices cannot be lost: they are queued under
   * message ids fixed in that record (so queueing twice adds nothing), and should this process
   * stop before the job is settled, the next claim of the job queues them first.
   */
  private async settleWithNotices(job: Job<JobData>, lease: Lease, data: JobData, notices: NewOutboundMessage[], clear = true): Promise<void> {
    const stored = notices.map((n) => ({ ...n, raw: n.raw.toString('base64') }));
    await this.fencedWrite(job.id!, lease.token, stored.length > 0 ? { ...data, notices: stored } : data);
    if (stored.length === 0) return;
    await this.queueNotices(stored);
    if (clear) await this.fencedWrite(job.id!, lease.token, data);
  }

  private async fencedWrite(jobId: string, token: string, data: JobData): Promise<void> {
    const jobKey = this.queue.toKey(jobId);
    const ok = await this.redis.eval(FENCED_WRITE, 2, `${jobKey}:lock`, jobKey, token, JSON.stringify(data));
    if (ok !== 1) throw leaseLost(jobId, 'lock not held');
  }

  /** Queues stored notices; a notice whose jobs already exist is left as it is. */
  private async queueNotices(notices: StoredNotice[]): Promise<void> {
    for (const notice of notices) {
      const message: NewOutboundMessage = { ...notice, raw: Buffer.from(notice.raw, 'base64') };
      const first = (await this.queue.getJob(`${message.messageId}.1`)) as Job<JobData> | undefined;
      if (first || (await this.redis.hexists(this.heldKey, `${message.messageId}.1`))) continue;
      await this.enqueue(message);
    }
  }

  async postpone(lease: Lease, until: number): Promise<void> {
    await this.withLease(lease, (job) => job.moveToDelayed(until, lease.token));
  }

  async get(id: string): Promise<QueueJob | null> {
    return this.wrap('get', async () => {
      const held = await this.redis.hget(this.heldKey, id);
      if (held) return { ...(JSON.parse(held) as JobData), state: 'held' as const };
      const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
      if (!job) return null;
      const state = toState(await job.getState(), job.data);
      return state ? asJob(job.data, state) : null;
    });
  }

  async list(selector: JobSelector = {}, now = Date.now()): Promise<QueueJob[]> {
    return this.wrap('list', async () => {
      const out: QueueJob[] = [];
      for (const [types, bull] of [[['waiting', 'prioritized'], 'waiting'], [['delayed'], 'delayed'], [['active'], 'active']] as const) {
        const jobs = (await this.queue.getJobs([...types])) as Job<JobData>[];
        for (const job of jobs) {
          const state = job?.data ? toState(bull, job.data) : null;
          if (state) out.push(asJob(job.data, state));
        }
      }
      for (const value of Object.values(await this.redis.hgetall(this.heldKey))) {
        out.push({ ...(JSON.parse(value) as JobData), state: 'held' });
      }
      return out.filter((job) => matchesSelector(job, selector, now)).sort(byAge);
    });
  }

  async hold(ids: string[]): Promise<string[]> {
    return this.each('hold', ids, async (id) => {
      const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
      if (!job || !['waiting', 'prioritized', 'delayed'].includes(await job.getState())) return false;
      await job.remove();
      await this.redis.hset(this.heldKey, id, JSON.stringify(job.data));
      return true;
    });
  }

  async release(ids: string[]): Promise<string[]> {
    return this.each('release', ids, (id) => this.unhold(id));
  }

  async retryNow(ids: string[]): Promise<string[]> {
    return this.each('retry', ids, async (id) => {
      if (await this.unhold(id)) return true;
      const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
      const state = job ? await job.getState() : 'unknown';
      if (!job || (state !== 'delayed' && state !== 'waiting')) return false;
      await job.updateData({ ...job.data, nextAttemptAt: Date.now() });
      if (state === 'delayed') await job.promote();
      return true;
    });
  }

  async remove(ids: string[]): Promise<string[]> {
    return this.each('remove', ids, async (id) => {
      const held = await this.redis.hget(this.heldKey, id);
      if (held) {
        await this.redis.hdel(this.heldKey, id);
        await this.spool.release((JSON.parse(held) as JobData).messageId);
        return true;
      }
      const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
      if (!job || (await job.getState()) === 'active') return false;
      await job.remove();
      await this.spool.release(job.data.messageId);
      return true;
    });
  }

  /** Puts a held job back into BullMQ, due now. */
  private async unhold(id: string): Promise<boolean> {
    const held = await this.redis.hget(this.heldKey, id);
    if (!held) return false;
    const data: JobData = { ...(JSON.parse(held) as JobData), nextAttemptAt: Date.now() };
    await this.queue.add(JOB_NAME, data, { ...JOB_OPTIONS, jobId: id });
    await this.redis.hdel(this.heldKey, id);
    return true;
  }

  private async ensureWorker(leaseMs: number): Promise<Worker> {
    if (this.worker) return this.worker;
    this.workerRedis = this.redis.duplicate({ maxRetriesPerRequest: null, enableAutoPipelining: false });
    const worker = new Worker(this.options.name, null, {
      connection: this.workerRedis,
      prefix: this.options.prefix,
      autorun: false,
      lockDuration: this.options.leaseMs ?? leaseMs,
      stalledInterval: this.options.stalledIntervalMs ?? 30_000,
      // A lapsed lease always goes back to the queue: Hermod decides when a message fails.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', () => undefined);
    this.worker = worker;
    await worker.waitUntilReady();
    void worker.startStalledCheckTimer();
    return worker;
  }

  private async withLease(lease: Lease, fn: (job: Job<JobData>) => Promise<unknown>): Promise<void> {
    await this.wrap('settle', async () => {
      const cached = this.claimed.get(lease.token);
      this.claimed.delete(lease.token);
      const job = cached?.id === lease.job.id ? cached : ((await this.queue.getJob(lease.job.id)) as Job<JobData> | undefined);
      if (!job) throw new QueueError(`job ${lease.job.id}: lease lost (removed)`, { code: 'HERMOD_QUEUE_LEASE' });
      try {
        await fn(job);
      } catch (err) {
        if (err instanceof QueueError) throw err;
        if (/lock|not in the active state|missing key/i.test((err as Error).message)) throw leaseLost(lease.job.id, (err as Error).message);
        throw err;
      }
    });
  }

  private async each(operation: string, ids: string[], fn: (id: string) => Promise<boolean>): Promise<string[]> {
    return this.wrap(operation, async () => {
      const done: string[] = [];
      for (const id of ids) if (await fn(id)) done.push(id);
      return done;
    });
  }

  private async wrap<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HermodError) throw err;
      throw new QueueError(`queue ${operation} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

function leaseLost(jobId: string, why: string): QueueError {
  return new QueueError(`job ${jobId}: lease lost (${why})`, { code: 'HERMOD_QUEUE_LEASE' });
}

/** The job as callers see it: no notices of a settlement under way. */
function asJob(data: JobData, state: JobState): QueueJob {
  const { notices: _notices, sent: _sent, ...job } = data;
  return { ...job, state };
}

function dataOf(job: QueueJob): JobData {
  const { state: _state, ...data } = job;
  return data;
}

/** BullMQ's state → ours; a delayed job that was never tried is merely postponed, so `queued`. */
function toState(bull: string, data: JobData): JobState | null {
  if (bull === 'active') return 'active';
  if (bull === 'delayed') return data.attempts > 0 ? 'deferred' : 'queued';
  if (bull === 'waiting' || bull === 'wait' || bull === 'prioritized' || bull === 'paused') return 'queued';
  return null;
}
