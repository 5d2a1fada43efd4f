import { formatReplyLine, REPLIES, type Reply } from '../../mail/replies.js';
import type { SessionInfo } from '../../pipeline/types.js';
import type { TransactionCore } from '../../transaction/transaction-core.js';
import type { QueueJob } from '../types.js';
import type { RecipientReply } from './smtp-session.js';

/**
 * Delivers a queued message to recipients in Hermod's own domains: a thin adapter over the
 * transaction core, as the LMTP listener is (resolution, duplicate check, plugins, scorer, quota,
 * one durable write per recipient), so a full mailbox defers and an unknown address bounces
 * exactly as over LMTP.
 */
export class LocalDeliverer {
  constructor(
    private readonly transactions: TransactionCore,
    private readonly hostname: string,
  ) {}

  async deliver(job: QueueJob, recipients: string[], body: Buffer): Promise<RecipientReply[]> {
    const session = this.session(job);
    const { open } = await this.transactions.open('local', session, `${job.id}.${job.attempts + 1}`, job.sender);
    const replies = new Map<string, Reply>();
    for (const address of recipients) {
      const refused = await this.transactions.addRecipient(open, address);
      if (refused) replies.set(address, refused);
    }
    if (open.transaction.recipients.length > 0) {
      const report = await this.transactions.deliver(open, body);
      report.outcomes.forEach((outcome, i) => replies.set(outcome.recipient.address, report.replies[i]));
    }
    return recipients.map((address) => {
      const reply = replies.get(address) ?? REPLIES.storeFailure;
      return { address, code: reply.code, response: formatReplyLine(reply) };
    });
  }

  /** The queue as the client of a local delivery: loopback, over no network at all. */
  private session(job: QueueJob): SessionInfo {
    return {
      id: `queue-${job.id}`,
      listener: 'smtp',
      clientAddress: '127.0.0.1',
      clientPort: 0,
      peerAddress: '127.0.0.1',
      proxied: false,
      heloName: this.hostname,
      secure: true,
    };
  }
}
