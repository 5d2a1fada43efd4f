import type { Logger } from 'pino';
import { buildDsn } from './dsn-builder.js';
import type { OutboundService } from './outbound-service.js';
import type { RetryPolicy } from './retry-policy.js';
import type { JobRecipient, QueueJob } from './types.js';

/**
 * Sends delivery status notifications to the envelope sender: bounces for recipients that
 * failed for good or expired, and one delay warning. Never to the null sender: a bounce that
 * cannot be delivered is dropped (logged), so two MTAs can never bounce mail back and forth.
 */
export class Bouncer {
  constructor(
    private readonly outbound: () => OutboundService,
    private readonly policy: RetryPolicy,
    private readonly hostname: string,
    private readonly log: Logger,
  ) {}

  /** Queues a bounce for the recipients; returns their addresses (none for the null sender). */
  async bounce(job: QueueJob, failed: JobRecipient[], original: Buffer): Promise<string[]> {
    return this.send(job, failed, original, 'failed');
  }

  /** Queues a "still trying" notice for the pending recipients. */
  async delayWarning(job: QueueJob, pending: JobRecipient[], original: Buffer): Promise<void> {
    await this.send(job, pending, original, 'delayed');
  }

  private async send(job: QueueJob, recipients: JobRecipient[], original: Buffer, action: 'failed' | 'delayed'): Promise<string[]> {
    if (job.sender === '') {
      this.log.warn({ queueId: job.id, rcpt: recipients.map((r) => r.address), action }, 'no notification for the null sender; dropped');
      return [];
    }
    const dsn = buildDsn({
      reportingMta: this.hostname,
      sender: job.sender,
      action,
      recipients,
      original,
      arrivalDate: new Date(job.createdAt),
      willRetryUntil: new Date(this.policy.expiresAt(job.createdAt)),
      queueId: job.id,
    });
    const { messageId } = await this.outbound().submit({ sender: '', recipients: [job.sender], raw: dsn });
    this.log.info({ queueId: job.id, dsn: messageId, to: job.sender, action, rcpt: recipients.map((r) => r.address) }, 'delivery status notification queued');
    return recipients.map((r) => r.address);
  }
}
