import type { MessageProcessor } from '../../pipeline/message-processor.js';
import type { RecipientState, SessionInfo, Transaction } from '../../pipeline/types.js';
import { receivedHeader } from '../../protocol/received-header.js';
import { REPLIES, replyForOutcome, type Reply } from '../../protocol/replies.js';
import type { MessageStore } from '../../store/message-store.js';
import type { QueueJob } from '../types.js';
import type { RecipientReply } from './smtp-session.js';

/**
 * Delivers a queued message to recipients in Hermod's own domains straight into the store,
 * through the same pipeline as inbound mail (plugins, scorer, quota, one durable write per
 * recipient). Each recipient's outcome is turned into a reply by replies.ts, so a full mailbox
 * defers (452) and an unknown address bounces (550 5.1.1) exactly as over LMTP.
 */
export class LocalDeliverer {
  constructor(
    private readonly store: MessageStore,
    private readonly processor: MessageProcessor,
    private readonly hostname: string,
  ) {}

  async deliver(job: QueueJob, recipients: string[], body: Buffer): Promise<RecipientReply[]> {
    const replies = new Map<string, Reply>();
    const found: RecipientState[] = [];
    for (const address of recipients) {
      const mailbox = await this.store.resolveAddress(address);
      if (mailbox) found.push({ address, mailbox });
      else replies.set(address, REPLIES.unknownRecipient);
    }
    if (found.length > 0) {
      const session = this.session(job);
      const txn: Transaction = { id: `${job.id}.${job.attempts + 1}`, mailFrom: job.sender, recipients: found, addedHeaders: [], findings: [] };
      const received = receivedHeader(session, this.hostname, txn.id, found.map((r) => r.address));
      const result = await this.processor.process(session, txn, body, received);
      for (const outcome of result.outcomes) replies.set(outcome.recipient.address, replyForOutcome(outcome));
    }
    return recipients.map((address) => {
      const reply = replies.get(address) ?? REPLIES.storeFailure;
      return { address, code: reply.code, response: `${reply.code} ${reply.enhanced} ${reply.text}` };
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
