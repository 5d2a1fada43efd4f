import type { Logger } from 'pino';
import type { DeliveredReport, SuccessNotices } from '../transaction/success-notice.js';
import type { NoticeCounter } from './bouncer.js';
import { buildDsn } from './dsn-builder.js';
import type { OutboundService } from './outbound-service.js';

/**
 * "Delivered" notices for mail the SMTP listener stored (RFC 3461 §6.2), built like the queue's
 * own notices (dsn-builder.ts: Original-Envelope-Id, Original-Recipient, the original's header
 * section) and queued through the same way in as bounces, to the sender with the null sender.
 * The outbound side starts after the listeners' transaction core is built, hence the getter.
 */
export class QueuedSuccessNotices implements SuccessNotices {
  constructor(
    private readonly outbound: () => OutboundService | undefined,
    private readonly hostname: string,
    private readonly log: Logger,
    private readonly counter?: NoticeCounter,
  ) {}

  async delivered(report: DeliveredReport): Promise<void> {
    const rcpt = report.recipients.map((r) => r.address);
    const fields = { txn: report.transactionId, to: report.sender, rcpt };
    try {
      const raw = buildDsn({
        reportingMta: this.hostname,
        sender: report.sender,
        recipients: report.recipients.map((r) => ({
          address: r.address,
          orcpt: r.orcpt,
          status: 'delivered' as const,
          lastResponse: r.response,
          lastCode: Number(r.response.slice(0, 3)),
          action: 'delivered' as const,
        })),
        original: report.original,
        ret: report.envelope?.ret,
        envid: report.envelope?.envid,
        arrivalDate: report.arrivalDate,
        queueId: report.transactionId,
      });
      const outbound = this.outbound();
      if (!outbound) throw Object.assign(new Error('outbound queue not running'), { code: 'HERMOD_UNAVAILABLE' });
      const queued = await outbound.submit({ sender: '', recipients: [report.sender], raw });
      this.log.info({ ...fields, dsn: queued.messageId }, 'success notice queued');
    } catch (err) {
      // The message itself is stored and its 250 stands; a lost notice is logged and counted.
      const reason = (err as { code?: string }).code === 'HERMOD_INPUT' ? 'sender_without_domain' : 'queue_unavailable';
      this.log.error({ ...fields, reason, err: (err as Error).message }, 'success notice cannot be queued; dropped');
      this.counter?.unbuildableNotice(reason);
    }
  }
}
