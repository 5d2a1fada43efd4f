import type { Logger } from 'pino';
import { formatReplyLine, REPLIES } from '../mail/replies.js';
import type { Bouncer } from './bouncer.js';
import type { LocalDeliverer } from './delivery/local-deliverer.js';
import type { RemoteAttempt } from './delivery/remote-deliverer.js';
import type { RecipientReply } from './delivery/smtp-session.js';
import type { DkimSigner } from './dkim-signer.js';
import type { OutboundQueue } from './outbound-queue.js';
import type { RetryPolicy } from './retry-policy.js';
import type { JobRecipient, Lease, QueueJob } from './types.js';

/** Anything that can deliver to a remote domain (RemoteDeliverer). */
export interface Remote {
  deliver(domain: string, sender: string, recipients: string[], body: Buffer): Promise<RemoteAttempt>;
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

/**
 * One delivery attempt of one job and what follows from it: 2xx → delivered, 5xx → failed and
 * bounced, 4xx or no reply → retried on the schedule. Recipients of one job are kept apart:
 * each carries its own status and last reply, and a partial success is never re-sent to the
 * recipients that already took it.
 */
export class AttemptRunner {
  constructor(private readonly deps: AttemptDeps) {}

  async run(lease: Lease, now = Date.now()): Promise<AttemptReport> {
    const { job } = lease;
    const body = await this.deps.queue.readBody(job.messageId);
    const pending = job.recipients.filter((r) => r.status === 'pending').map((r) => r.address);
    if (!body || pending.length === 0) {
      this.deps.log.warn({ queueId: job.id }, 'queue job without body or pending recipients; dropped');
      await this.deps.queue.complete(lease);
      return { job, outcome: 'completed', recipients: job.recipients, bounced: [], warned: false };
    }
    const { replies, remoteMta, policy } = await this.attempt(job, pending, body);
    const recipients = merge(job.recipients, replies, remoteMta);
    const failedNow = recipients.filter((r, i) => r.status === 'failed' && job.recipients[i].status !== 'failed');
    const stillPending = recipients.filter((r) => r.status === 'pending');
    if (stillPending.length === 0) {
      await this.deps.queue.complete(lease);
      const bounced = await this.bounce(job, failedNow, body);
      return this.report({ job, outcome: 'completed', recipients, bounced, warned: false, policy });
    }
    const next = this.deps.policy.nextAttempt(job.createdAt, job.attempts + 1, now);
    if (next === null) {
      const expired = stillPending.map((r) => ({ ...r, status: 'failed' as const, lastResponse: expiredText(r) }));
      const final = recipients.map((r) => expired.find((e) => e.address === r.address) ?? r);
      await this.deps.queue.complete(lease);
      const bounced = await this.bounce(job, [...failedNow, ...expired], body);
      return this.report({ job, outcome: 'expired', recipients: final, bounced, warned: false, policy });
    }
    const warned = this.deps.policy.shouldWarn(job.createdAt, now, job.delayWarned, job.sender);
    const lastError = stillPending[0].lastResponse ?? 'temporary failure';
    await this.deps.queue.defer(lease, { recipients, nextAttemptAt: next, lastError, delayWarned: job.delayWarned || warned });
    const bounced = await this.bounce(job, failedNow, body);
    if (warned) await this.deps.bouncer.delayWarning(job, stillPending, body);
    return this.report({ job, outcome: 'deferred', recipients, bounced, warned, policy });
  }

  private async attempt(job: QueueJob, pending: string[], body: Buffer): Promise<{ replies: RecipientReply[]; remoteMta?: string; policy?: string }> {
    try {
      if (job.local) return { replies: await this.deps.local.deliver(job, pending, body), remoteMta: undefined, policy: 'local' };
      const signed = this.deps.signer ? await this.deps.signer.sign(body, job.sender) : body;
      return await this.deps.remote.deliver(job.domain, job.sender, pending, signed);
    } catch (err) {
      // Anything unexpected (store down, signer bug) is a temporary failure for every recipient.
      this.deps.log.error({ err, queueId: job.id }, 'delivery attempt failed');
      const reply = { ...REPLIES.deliveryFailure, text: (err as Error).message };
      const response = formatReplyLine(reply);
      return { replies: pending.map((address) => ({ address, code: reply.code, response })) };
    }
  }

  private async bounce(job: QueueJob, failed: JobRecipient[], body: Buffer): Promise<string[]> {
    if (failed.length === 0) return [];
    return this.deps.bouncer.bounce(job, failed, body);
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

function expiredText(r: JobRecipient): string {
  return `${r.lastResponse ?? 'no answer'} (delivery time expired)`;
}
