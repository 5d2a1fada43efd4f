import { ulid } from 'ulid';
import type { Logger } from 'pino';
import { InputError } from '../errors.js';
import type { MailDirectory } from '../store/roles.js';
import { domainOf } from '../mail/message-headers.js';
import type { OutboundQueue } from './outbound-queue.js';
import type { QueueJob } from './types.js';

/** A message to send: envelope and bytes as they go out. */
export interface Submission {
  /** Envelope sender; '' for the null sender (bounces). */
  sender: string;
  recipients: string[];
  raw: Buffer;
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
    const messageId = ulid();
    const jobs = await this.queue.enqueue({ messageId, sender: submission.sender, destinations, raw: submission.raw });
    this.log.info(
      { queueId: messageId, from: submission.sender || '<>', rcpt: submission.recipients.length, domains: destinations.map((d) => d.domain), size: submission.raw.length },
      'queued',
    );
    return { messageId, jobs };
  }
}
