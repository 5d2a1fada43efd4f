import type { Logger } from 'pino';
import { formatReplyLine, REPLIES } from '../mail/replies.js';
import type { Bouncer, Notices } from './bouncer.js';
import type { LocalDeliverer } from './delivery/local-deliverer.js';
import type { DeliveryRequest, RemoteAttempt } from './delivery/remote-deliverer.js';
import type { RecipientReply } from './delivery/smtp-session.js';
import type { DkimSigner } from './dkim-signer.js';
import type { OutboundQueue } from './outbound-queue.js';
import type { RetryPolicy } from './retry-policy.js';
import type { JobRecipient, Lease, QueueJob, SentRecord } from './types.js';

/** Anything that can deliver to a remote domain (RemoteDeliverer). */
export interface Remote {
  deliver(request: DeliveryRequest): Promise<RemoteAttempt>;
}

/** What one attempt did, for logs, tests and metrics. */
export interface AttemptReport {
  job: QueueJob;
  /** completed: every recipient final; deferred: some will be retried; expired: gave up. */
  outcome: 'completed' | 'deferred' | 'expired';
  recipients: JobRecipient[];
  /** Recipients reported to the sender in a bounce by this attempt. */
  bounced: string[];
  /** True when a delay warning went to the sender. */
  warned: boolean;
  /** Recipients reported to the sender as delivered or relayed (NOTIFY=SUCCESS). */
  succeeded: string[];
  policy?: string;
}

export interface AttemptDeps {
  queue: OutboundQueue;
  local: LocalDeliverer;
  remote: Remote;
  signer?: DkimSigner;
  policy: RetryPolicy;
  bouncer: Bouncer;
  log: Logger;
}

/** The replies of one attempt, and what the peer was. */
interface Attempted {
  replies: RecipientReply[];
  remoteMta?: string;
  policy?: string;
  /** The next hop took over DSN duties (it offered DSN, or the delivery was local). */
  nextHopReports: boolean;
}

/**
 * One delivery attempt of one job and what follows from it: 2xx → delivered, 5xx → failed and
 * bounced, 4xx or no reply → retried on the schedule. Recipients of one job are kept apart:
 * each carries its own status and last reply, and a partial success is never re-sent to the
 * recipients that already took it. The notices an attempt produces are queued by the same
 * queue call that settles the job, so a crash can lose neither.
 */
export class AttemptRunner {
  constructor(private readonly deps: AttemptDeps) {}

  /**
   * @param body the message, when the caller already started reading it (the worker reads it
   *   while it waits for the destination's slot); read here otherwise
   */
  async run(lease: Lease, now = Date.now(), signal?: AbortSignal, body?: Promise<Buffer | null>): Promise<AttemptReport> {
    const { job } = lease;
    return this.runWithBody(lease, (await (body ?? this.deps.queue.readBody(job.messageId))) ?? null, now, signal);
  }

  private async runWithBody(lease: Lease, body: Buffer | null, now: number, signal?: AbortSignal): Promise<AttemptReport> {
    const { job } = lease;
    const pending = job.recipients.filter((r) => r.status === 'pending');
    if (!body || pending.length === 0) {
      this.deps.log.warn({ queueId: job.id }, 'queue job without body or pending recipients; dropped');
      await this.deps.queue.complete(lease);
      return { job, outcome: 'completed', recipients: job.recipients, bounced: [], warned: false, succeeded: [] };
    }
    const attempted = job.sent?.attempt === job.attempts ? this.fromRecord(job) : await this.recorded(lease, pending, body, signal);
    const recipients = merge(job.recipients, attempted.replies, attempted.remoteMta);
    const changed = (status: string) => recipients.filter((r, i) => r.status === status && job.recipients[i].status !== status);
    const failedNow = changed('failed').map((r) => ({ ...r, action: 'failed' as const }));
    const deliveredNow = changed('delivered').map((r) => ({ ...r, action: job.local ? ('delivered' as const) : ('relayed' as const) }));
    // A next hop that offered DSN got NOTIFY with the message and reports success itself.
    const successes = job.local || !attempted.nextHopReports ? deliveredNow : [];
    const stillPending = recipients.filter((r) => r.status === 'pending');
    const { policy } = attempted;
    if (stillPending.length === 0) {
      const notices = await this.deps.bouncer.notices(job, [...failedNow, ...successes], body);
      await this.deps.queue.complete(lease, notices.messages);
      return this.report({ job, outcome: 'completed', recipients, ...reported(notices), policy });
    }
    const next = this.deps.policy.nextAttempt(job.createdAt, job.attempts + 1, now);
    if (next === null) {
      const expired = stillPending.map((r) => ({ ...r, status: 'failed' as const, lastResponse: expiredText(r), action: 'failed' as const }));
      const final = recipients.map((r) => expired.find((e) => e.address === r.address) ?? r);
      const notices = await this.deps.bouncer.notices(job, [...failedNow, ...expired, ...successes], body);
      await this.deps.queue.complete(lease, notices.messages);
      return this.report({ job, outcome: 'expired', recipients: final, ...reported(notices), policy });
    }
    const warn = this.deps.policy.shouldWarn(job.createdAt, now, job.delayWarned, job.sender);
    const delayed = warn ? stillPending.map((r) => ({ ...r, action: 'delayed' as const })) : [];
    const notices = await this.deps.bouncer.notices(job, [...failedNow, ...delayed, ...successes], body);
    const lastError = stillPending[0].lastResponse ?? 'temporary failure';
    await this.deps.queue.defer(lease, { recipients, nextAttemptAt: next, lastError, delayWarned: job.delayWarned || warn }, notices.messages);
    return this.report({ job, outcome: 'deferred', recipients, ...reported(notices), policy });
  }

  /**
   * Delivers, then records the replies before anything else: from that write on, a crash of this
   * process makes the next claim settle the job from the record instead of delivering it again.
   */
  private async recorded(lease: Lease, pending: JobRecipient[], body: Buffer, signal?: AbortSignal): Promise<Attempted> {
    const attempted = await this.attempt(lease.job, pending, body, signal);
    const { replies, remoteMta, policy, nextHopReports } = attempted;
    const sent: SentRecord = { attempt: lease.job.attempts, replies: replies.map(({ address, code, response }) => ({ address, code, response })), nextHopReports };
    await this.deps.queue.record(lease, { ...sent, ...(remoteMta ? { remoteMta } : {}), ...(policy ? { policy } : {}) });
    return attempted;
  }

  /** The replies an earlier holder of the job heard and recorded before it stopped. */
  private fromRecord(job: QueueJob): Attempted {
    const sent = job.sent!;
    this.deps.log.info({ queueId: job.id, attempt: sent.attempt }, 'settling job from the replies its last holder recorded');
    return { replies: sent.replies, remoteMta: sent.remoteMta, policy: sent.policy, nextHopReports: sent.nextHopReports };
  }

  private async attempt(job: QueueJob, pending: JobRecipient[], body: Buffer, signal?: AbortSignal): Promise<Attempted> {
    try {
      if (job.local) {
        const replies = await this.deps.local.deliver(job, pending.map((r) => r.address), body);
        return { replies, policy: 'local', nextHopReports: true };
      }
      const signed = this.deps.signer ? await this.deps.signer.sign(body, job.sender) : body;
      const result = await this.deps.remote.deliver({ domain: job.domain, sender: job.sender, recipients: pending, body: signed, dsn: job.dsn, signal });
      return { replies: result.replies, remoteMta: result.remoteMta, policy: result.policy, nextHopReports: result.dsn };
    } catch (err) {
      // Anything unexpected (store down, signer bug) is a temporary failure for every recipient.
      this.deps.log.error({ err, queueId: job.id }, 'delivery attempt failed');
      const reply = { ...REPLIES.deliveryFailure, text: (err as Error).message };
      const response = formatReplyLine(reply);
      return { replies: pending.map((r) => ({ address: r.address, code: reply.code, response })), nextHopReports: false };
    }
  }

  private report(report: AttemptReport): AttemptReport {
    const { job, outcome, recipients, policy } = report;
    for (const r of recipients) {
      const before = job.recipients.find((x) => x.address === r.address);
      if (before?.status !== 'pending') continue;
      const status = r.status === 'delivered' ? 'sent' : r.status === 'failed' ? 'bounced' : 'deferred';
      this.deps.log.info(
        { queueId: job.id, to: r.address, relay: r.remoteMta ?? (job.local ? 'local' : undefined), status, response: r.lastResponse, attempts: job.attempts + 1, delayMs: Date.now() - job.createdAt, policy, outcome },
        'outbound delivery',
      );
    }
    return report;
  }
}

/** Applies one attempt's replies to the job's recipients: 2xx delivered, 5xx failed, else pending. */
export function merge(recipients: JobRecipient[], replies: RecipientReply[], remoteMta?: string): JobRecipient[] {
  const byAddress = new Map(replies.map((r) => [r.address, r]));
  return recipients.map((r) => {
    const reply = byAddress.get(r.address);
    if (r.status !== 'pending' || !reply) return r;
    const status = reply.code >= 200 && reply.code < 300 ? 'delivered' : reply.code >= 500 ? 'failed' : 'pending';
    const response = /^\d{3}\b/.test(reply.response) || reply.code === 0 ? reply.response : `${reply.code} ${reply.response}`;
    return { ...r, status, lastCode: reply.code, lastResponse: response.trim(), ...(remoteMta ? { remoteMta } : {}) };
  });
}

/** Who the notices of an attempt told the sender about, by kind. */
function reported(notices: Notices): Pick<AttemptReport, 'bounced' | 'warned' | 'succeeded'> {
  const of = (...actions: string[]) => notices.reported.filter((r) => actions.includes(r.action)).map((r) => r.address);
  return { bounced: of('failed'), warned: of('delayed').length > 0, succeeded: of('delivered', 'relayed') };
}

function expiredText(r: JobRecipient): string {
  return `${r.lastResponse ?? 'no answer'} (delivery time expired)`;
}
