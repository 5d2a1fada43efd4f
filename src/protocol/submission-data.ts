import { randomBytes } from 'node:crypto';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { ownsAddress } from '../mail/address-syntax.js';
import { headerAddresses, headerValues, withoutBcc } from '../mail/message-headers.js';
import { receivedHeader } from '../mail/received-header.js';
import { formatReplyText, replyError, REPLIES } from '../mail/replies.js';
import { InFlightWork, readMessage } from './data-intake.js';
import { tlsDetails } from '../mail/tls-details.js';
import type { SubmissionHandlerDeps, SubmissionSession } from './submission-session.js';

type DataDone = (err: Error | null, message?: unknown) => void;

/**
 * DATA on the submission listener: reads the message, checks that an authenticated user's From
 * addresses are its own, adds what a submission server adds (Received, and Date and Message-ID
 * when missing; Bcc removed) and queues it. 250 means queued durably. Its bytes count against
 * limits.maxInflightBytes like the LMTP and SMTP listeners' (451 4.3.1 past it after the wait).
 */
export class SubmissionData {
  private readonly inFlight = new InFlightWork();

  constructor(
    private readonly deps: SubmissionHandlerDeps,
    private readonly stateOf: (id: string) => SubmissionSession | undefined,
  ) {}

  /** True while a message is being processed. */
  get busy(): boolean {
    return this.inFlight.busy;
  }

  /** Resolves once every DATA in progress has been answered (graceful shutdown). */
  drain(): Promise<void> {
    return this.inFlight.drain();
  }

  handle(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): void {
    this.inFlight.track(this.process(stream, session, done));
  }

  /**
   * Admission against the in-flight budget shared with the LMTP and SMTP listeners, then the
   * message in memory (the outbound queue takes it whole), then the queue. The bytes are given
   * back once the reply is decided.
   */
  private async process(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): Promise<void> {
    const { budget } = this.deps;
    const share = await budget.admit();
    if (!share) {
      // smtp-server drains the unread message, then sends this reply.
      this.deps.log.warn({ session: session.id, inflightBytes: budget.bytes }, 'submission DATA refused: in-flight budget used up');
      return done(replyError(REPLIES.inflightBudgetExceeded));
    }
    let answer: Parameters<DataDone>;
    try {
      const raw = await readMessage(stream, this.deps.config.limits.maxMessageBytes, share.add);
      answer = await this.answer(stream, session, raw);
    } catch (err) {
      answer = [err as Error];
    }
    share.release();
    done(...answer);
  }

  /** The reply to DATA, as smtp-server's callback takes it. */
  private async answer(stream: SMTPServerDataStream, session: SMTPServerSession, raw: Buffer): Promise<Parameters<DataDone>> {
    const state = this.stateOf(session.id)!;
    if (stream.sizeExceeded) return [null];
    if (state.mailbox) {
      const from = headerAddresses(raw, 'from');
      if (from.length === 0 || !from.every((a) => ownsAddress(state.mailbox!, a))) {
        this.deps.log.info({ session: session.id, user: state.mailbox.address, from }, 'submission From refused');
        return [replyError(REPLIES.fromNotOwned)];
      }
    }
    try {
      const prepared = this.prepare(raw, state, session);
      const { messageId } = await this.deps.outbound().submit({
        sender: state.sender ?? '',
        recipients: state.recipients,
        raw: prepared,
        ...(state.dsn ? { dsn: state.dsn } : {}),
        ...(state.recipientDsn ? { recipientDsn: state.recipientDsn } : {}),
      });
      return [null, `${formatReplyText(REPLIES.queued)} as ${messageId}`];
    } catch (err) {
      this.deps.log.error({ err, session: session.id }, 'submission could not be queued');
      return [replyError(REPLIES.queueFailure)];
    }
  }

  /** Received on top; Date and Message-ID when the client left them out; Bcc removed. */
  private prepare(raw: Buffer, state: SubmissionSession, session: SMTPServerSession): Buffer {
    const host = this.deps.config.hostname;
    const info = {
      id: session.id,
      listener: 'smtp' as const,
      clientAddress: state.client,
      clientPort: session.remotePort,
      peerAddress: state.client,
      proxied: false,
      heloName: session.hostNameAppearsAs ?? '',
      secure: session.secure,
      tls: session.secure ? tlsDetails((session as { tlsOptions?: Parameters<typeof tlsDetails>[0] }).tlsOptions) : undefined,
    };
    const received = receivedHeader(info, host, session.id, state.recipients);
    // RFC 3848: ESMTPA / ESMTPSA name an authenticated submission.
    const lines = [state.mailbox ? received.replace(/ with (ESMTPS?) id/, ' with $1A id') : received];
    if (headerValues(raw, 'date').length === 0) lines.push(`Date: ${new Date().toUTCString().replace('GMT', '+0000')}`);
    if (headerValues(raw, 'message-id').length === 0) lines.push(`Message-ID: <${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${host}>`);
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n'), withoutBcc(raw)]);
  }
}

