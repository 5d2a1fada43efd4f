import { wantsNotice, type EnvelopeDsn, type RecipientDsn } from '../mail/dsn-parameters.js';
import { formatReplyLine, type Reply } from '../mail/replies.js';
import type { RecipientOutcome } from './recipient-outcome.js';

/** One recipient reported as delivered. */
export interface DeliveredRecipient {
  address: string;
  /** ORCPT as the client gave it, returned as Original-Recipient. */
  orcpt?: string;
  /** The reply the client got for this recipient. */
  response: string;
}

/** What a "delivered" notice reports (RFC 3461 §6.2, RFC 3464). */
export interface DeliveredReport {
  /** The transaction id, reported so the operator can find the log line. */
  transactionId: string;
  /** The envelope sender the notice goes to (never ''). */
  sender: string;
  /** RET and ENVID of the sender's MAIL FROM. */
  envelope?: EnvelopeDsn;
  recipients: DeliveredRecipient[];
  /** The message as received; the notice carries its header section. */
  original: Buffer;
  arrivalDate: Date;
}

/**
 * Where success notices go: the outbound queue's notice path, wired by the server (the queue
 * builds the RFC 3464 report and queues it to the sender with the null sender). It never
 * throws: the mail is already stored, so a notice that cannot be queued is logged and counted
 * by the sink, and the client still gets its 250.
 */
export interface SuccessNotices {
  delivered(report: DeliveredReport): Promise<void>;
}

/** The DSN requests of one inbound transaction (SMTP listener with DSN offered). */
export interface TransactionDsn {
  envelope?: EnvelopeDsn;
  /** NOTIFY and ORCPT per accepted recipient, by address as given at RCPT. */
  recipients: Map<string, RecipientDsn>;
}

/**
 * The recipients a "delivered" notice reports: stored now (not a duplicate of an earlier
 * delivery, which already had its notice) and asking for NOTIFY=SUCCESS.
 */
export function deliveredRecipients(outcomes: RecipientOutcome[], replies: Reply[], dsn: TransactionDsn): DeliveredRecipient[] {
  const out: DeliveredRecipient[] = [];
  outcomes.forEach((o, i) => {
    if (o.kind !== 'stored' || o.duplicate) return;
    const request = dsn.recipients.get(o.recipient.address);
    if (!wantsNotice(request, 'SUCCESS')) return;
    out.push({ address: o.recipient.address, orcpt: request?.orcpt, response: formatReplyLine(replies[i]) });
  });
  return out;
}
