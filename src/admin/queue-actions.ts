import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import { Bouncer } from '../queue/bouncer.js';
import { headerText } from '../mail/message-headers.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import type { OutboundService } from '../queue/outbound-service.js';
import { RetryPolicy } from '../queue/retry-policy.js';
import type { JobSelector, JobState, QueueJob } from '../queue/types.js';

/** What the queue commands and the queue endpoints work with. */
export interface QueueAccess {
  queue: OutboundQueue;
  outbound: OutboundService;
  log: Logger;
}

/** The changes an operator can make to selected jobs. */
export const QUEUE_ACTIONS = ['retry', 'hold', 'release', 'bounce', 'delete'] as const;
export type QueueAction = (typeof QUEUE_ACTIONS)[number];

/** What a change did, as `queue ACTION --json` prints it and POST /api/v1/queue/ACTION answers. */
export interface QueueChange {
  action: QueueAction;
  dryRun: boolean;
  /** Ids of the jobs changed (with dryRun: that would change). */
  jobs: string[];
}

/** A job with its message's header block, as `queue show --json` prints it. */
export type JobView = QueueJob & { headers: string };

/** @throws NotFoundError for an unknown job id. */
export async function showJob(queue: OutboundQueue, id: string): Promise<JobView> {
  const job = await queue.get(id);
  if (!job) throw new NotFoundError(`queue job ${id} does not exist`);
  const body = await queue.readBody(job.messageId);
  return { ...job, headers: body ? headerText(body) : '' };
}

/** Applies an action to the selected jobs (never to active ones), or with dryRun only names them. */
export async function changeJobs(
  action: QueueAction,
  selector: JobSelector,
  dryRun: boolean,
  access: QueueAccess,
  config: HermodConfig,
): Promise<QueueChange> {
  const selected = (await access.queue.list(selector)).filter((j) => j.state !== 'active');
  const jobs = dryRun ? selected.map((j) => j.id) : await apply(action, selected, access, config);
  return { action, dryRun, jobs };
}

async function apply(action: QueueAction, jobs: QueueJob[], access: QueueAccess, config: HermodConfig): Promise<string[]> {
  const ids = jobs.map((j) => j.id);
  const q = access.queue;
  switch (action) {
    case 'retry':
      return q.retryNow(ids);
    case 'hold':
      return q.hold(ids);
    case 'release':
      return q.release(ids);
    case 'delete':
      return q.remove(ids);
    case 'bounce':
      return bounceJobs(jobs, access, config.hostname, new RetryPolicy(config.queue.retry, config.queue.delayWarningMs));
  }
}

/** Reads each body first (removing the last job drops it), removes the job, then bounces. */
async function bounceJobs(jobs: QueueJob[], access: QueueAccess, hostname: string, policy: RetryPolicy): Promise<string[]> {
  const bouncer = new Bouncer((submission) => access.outbound.prepare(submission), policy, hostname, access.log);
  const done: string[] = [];
  for (const job of jobs) {
    const body = (await access.queue.readBody(job.messageId)) ?? Buffer.alloc(0);
    if ((await access.queue.remove([job.id])).length === 0) continue;
    const pending = job.recipients
      .filter((r) => r.status === 'pending')
      .map((r) => ({ ...r, status: 'failed' as const, action: 'failed' as const, lastResponse: `${r.lastResponse ? `${r.lastResponse}; ` : ''}removed from the queue by the administrator` }));
    const notices = await bouncer.notices(job, pending, body);
    for (const message of notices.messages) await access.queue.enqueue(message);
    done.push(job.id);
  }
  return done;
}

/** qshape's age buckets, in minutes: 5, 10, 20, … 1280, then older. */
const BUCKETS = [5, 10, 20, 40, 80, 160, 320, 640, 1280];

/** Queue statistics: jobs by state, and by destination domain and age as Postfix's qshape shows. */
export interface QueueStats {
  total: number;
  recipients: number;
  states: Record<JobState, number>;
  oldestAgeMs: number | null;
  /** Column labels of `domains[].byAge`: "5m" … "1280m", "1280m+". */
  buckets: string[];
  domains: { domain: string; total: number; byAge: number[] }[];
}

/** Counts jobs by state and by domain × age bucket (minutes since queued), busiest domains first. */
export function queueStats(jobs: QueueJob[], now = Date.now()): QueueStats {
  const states: Record<JobState, number> = { queued: 0, deferred: 0, active: 0, held: 0 };
  const domains = new Map<string, number[]>();
  for (const job of jobs) {
    states[job.state] += 1;
    const minutes = (now - job.createdAt) / 60_000;
    const index = BUCKETS.findIndex((b) => minutes <= b);
    const row = domains.get(job.domain) ?? new Array<number>(BUCKETS.length + 1).fill(0);
    row[index < 0 ? BUCKETS.length : index] += 1;
    domains.set(job.domain, row);
  }
  return {
    total: jobs.length,
    recipients: jobs.reduce((n, j) => n + j.recipients.filter((r) => r.status === 'pending').length, 0),
    states,
    oldestAgeMs: jobs.length ? now - Math.min(...jobs.map((j) => j.createdAt)) : null,
    buckets: [...BUCKETS.map((b) => `${b}m`), `${BUCKETS[BUCKETS.length - 1]}m+`],
    domains: [...domains]
      .map(([domain, byAge]) => ({ domain, total: byAge.reduce((a, b) => a + b, 0), byAge }))
      .sort((a, b) => b.total - a.total || (a.domain < b.domain ? -1 : 1)),
  };
}

