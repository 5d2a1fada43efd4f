import { ulid } from 'ulid';
import type { Logger } from 'pino';
import { InputError } from '../errors.js';
import type { MailDirectory } from '../store/roles.js';
import { domainOf } from '../mail/message-headers.js';
import type { OutboundQueue } from './outbound-queue.js';
import type { EnvelopeDsn, RecipientDsn } from '../mail/dsn-parameters.js';
import type { NewOutboundMessage, QueueJob } from './types.js';

/** A message to send: envelope and bytes as they go out. */
export interface Submission {
  /** Envelope sender; '' for the null sender (bounces). */
  sender: string;
  recipients: string[];
  raw: Buffer;
  /** RET and ENVID the client gave with MAIL FROM (RFC 3461). */
  dsn?: EnvelopeDsn;
  /** NOTIFY and ORCPT the client gave with each RCPT TO, by address (lower case). */
  recipientDsn?: Record<string, RecipientDsn>;
}

/** What `submit` queued. */
export interface Submitted {
  messageId: string;
  jobs: QueueJob[];
}

/**
 * The way into the outbound queue for the submission listener, `hermod send`, and bounces:
 * recipients are grouped by domain (one job each), domains of our own are marked local, and the
 * body is spooled once.
 */
export class OutboundService {
  constructor(
    readonly queue: OutboundQueue,
    private readonly store: MailDirectory,
    private readonly log: Logger,
  ) {}

  async submit(submission: Submission): Promise<Submitted> {
    const message = await this.prepare(submission);
    const jobs = await this.queue.enqueue(message);
    this.log.info(
      { queueId: message.messageId, from: submission.sender || '<>', rcpt: submission.recipients.length, domains: message.destinations.map((d) => d.domain), size: submission.raw.length },
      'queued',
    );
    return { messageId: message.messageId, jobs };
  }

  /**
   * The message as the queue takes it, without queueing it: a caller that must queue it together
   * with something else (a bounce with the settlement of its job) hands it to the queue itself.
   * InputError when a recipient has no domain.
   */
  async prepare(submission: Submission): Promise<NewOutboundMessage> {
    const groups = new Map<string, string[]>();
    for (const rcpt of submission.recipients) {
      const domain = domainOf(rcpt);
      if (!domain) throw new InputError(`recipient "${rcpt}" has no domain`);
      const list = groups.get(domain) ?? [];
      if (!list.some((r) => r.toLowerCase() === rcpt.toLowerCase())) list.push(rcpt);
      groups.set(domain, list);
    }
    if (groups.size === 0) throw new InputError('a message needs at least one recipient');
    const destinations = await Promise.all(
      [...groups].map(async ([domain, recipients]) => ({ domain, recipients, local: await this.store.isLocalDomain(domain) })),
    );
    return {
      messageId: ulid(),
      sender: submission.sender,
      destinations,
      raw: submission.raw,
      ...(submission.dsn ? { dsn: submission.dsn } : {}),
      ...(submission.recipientDsn ? { recipientDsn: submission.recipientDsn } : {}),
    };
  }
}
