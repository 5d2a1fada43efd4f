import type { Logger } from 'pino';
import { wantsNotice, type DsnNotify } from '../mail/dsn-parameters.js';
import { buildDsn, type DsnAction, type NoticeRecipient } from './dsn-builder.js';
import type { Submission } from './outbound-service.js';
import type { RetryPolicy } from './retry-policy.js';
import type { NewOutboundMessage, QueueJob } from './types.js';

/** Turns a notice into a queueable message (OutboundService.prepare). */
export type PrepareNotice = (submission: Submission) => Promise<NewOutboundMessage>;

/** Counts notices that could not be built (a Metrics hook; optional). */
export interface NoticeCounter {
  unbuildableNotice(reason: string): void;
}

/** The notices of one attempt, ready to be queued with the job's settlement. */
export interface Notices {
  messages: NewOutboundMessage[];
  /** The recipients the sender is told about, by action. */
  reported: NoticeRecipient[];
}

const NOTIFY_OF: Record<DsnAction, DsnNotify> = { failed: 'FAILURE', delayed: 'DELAY', delivered: 'SUCCESS', relayed: 'SUCCESS' };

/**
 * Builds delivery status notifications to the envelope sender — bounces for recipients that
 * failed for good or expired, a delay warning, success notices where NOTIFY asked for them —
 * honouring each recipient's NOTIFY and the message's RET and ENVID (RFC 3461). It does not
 * queue them: the attempt runner hands them to the queue with the job's settlement, in one
 * durable step. Never to the null sender: two MTAs can never bounce mail back and forth.
 */
export class Bouncer {
  constructor(
    private readonly prepare: PrepareNotice,
    private readonly policy: RetryPolicy,
    private readonly hostname: string,
    private readonly log: Logger,
    private readonly counter?: NoticeCounter,
  ) {}

  /** The notice for these recipients (one report), or none when nobody asked or it cannot be built. */
  async notices(job: QueueJob, recipients: NoticeRecipient[], original: Buffer): Promise<Notices> {
    const wanted = recipients.filter((r) => wantsNotice(r, NOTIFY_OF[r.action]));
    if (wanted.length === 0) return { messages: [], reported: [] };
    const rcpt = wanted.map((r) => `${r.address} (${r.action})`);
    if (job.sender === '') {
      this.log.warn({ queueId: job.id, rcpt }, 'no notification for the null sender; dropped');
      return { messages: [], reported: [] };
    }
    const raw = buildDsn({
      reportingMta: this.hostname,
      sender: job.sender,
      recipients: wanted,
      original,
      ret: job.dsn?.ret,
      envid: job.dsn?.envid,
      arrivalDate: new Date(job.createdAt),
      willRetryUntil: new Date(this.policy.expiresAt(job.createdAt)),
      queueId: job.id,
    });
    try {
      const message = await this.prepare({ sender: '', recipients: [job.sender], raw });
      this.log.info({ queueId: job.id, dsn: message.messageId, to: job.sender, rcpt }, 'delivery status notification queued');
      return { messages: [message], reported: wanted };
    } catch (err) {
      // Only a sender the queue cannot route to (no domain) gets here: the notice is lost, so it
      // is logged with the reason and counted, never silently.
      const reason = (err as { code?: string }).code === 'HERMOD_INPUT' ? 'sender_without_domain' : 'error';
      if (reason === 'error') throw err;
      this.log.error({ queueId: job.id, to: job.sender, rcpt, reason, err: (err as Error).message }, 'delivery status notification cannot be built; dropped');
      this.counter?.unbuildableNotice(reason);
      return { messages: [], reported: [] };
    }
  }
}
