/** One SMTP reply: basic code, RFC 3463 enhanced code, human text. */
export interface Reply {
  code: number;
  enhanced: string;
  text: string;
}

/**
 * The one place where outcomes become SMTP replies: every code and text Hermod sends is here.
 * Listeners, the transaction and the pipeline name an entry; they never write codes themselves.
 */
export const REPLIES = {
  accepted: { code: 250, enhanced: '2.0.0', text: 'Ok: delivered' },
  duplicate: { code: 250, enhanced: '2.0.0', text: 'Ok: already delivered' },
  discarded: { code: 250, enhanced: '2.0.0', text: 'Ok' },
  unknownRecipient: { code: 550, enhanced: '5.1.1', text: 'No such user here' },
  relayDenied: { code: 550, enhanced: '5.7.1', text: 'Relaying denied' },
  overQuotaTemp: { code: 452, enhanced: '4.2.2', text: 'Mailbox full' },
  overQuotaPerm: { code: 552, enhanced: '5.2.2', text: 'Mailbox full' },
  tooManyRecipients: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  /** SMTP: a recipient judged by other spam thresholds than the first goes in its own transaction. */
  otherPolicyRecipient: { code: 452, enhanced: '4.5.3', text: 'Recipient has its own policy, send it in a separate transaction' },
  tooManyConnections: { code: 421, enhanced: '4.7.0', text: 'Too many connections from your address' },
  storeFailure: { code: 451, enhanced: '4.3.0', text: 'Temporary storage failure, try again later' },
  /** DATA past limits.maxInflightBytes after the bounded wait (limits.inflightWaitMs). */
  inflightBudgetExceeded: { code: 451, enhanced: '4.3.1', text: 'Too much mail in progress, try again later' },
  /** The DATA spool could not be written (disk full, I/O error): nothing was kept. */
  spoolFailure: { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage, try again later' },
  pluginFailure: { code: 451, enhanced: '4.3.0', text: 'Temporary processing failure, try again later' },
  lookupFailure: { code: 451, enhanced: '4.3.0', text: 'Temporary lookup failure, try again later' },
  partialDelivery: { code: 451, enhanced: '4.3.0', text: 'Not all recipients could take the message, try again later' },
  spamRejected: { code: 550, enhanced: '5.7.1', text: 'Message refused as spam' },
  spamDeferred: { code: 451, enhanced: '4.7.1', text: 'Message deferred as suspected spam, try again later' },
  shuttingDown: { code: 421, enhanced: '4.3.2', text: 'Service shutting down, try again later' },
  unknownCommand: { code: 500, enhanced: '5.5.1', text: 'Command not recognized' },
  // MAIL/RCPT parameters (RFC 5321 §4.1.1.11, RFC 3463 5.5.4).
  unknownParameter: { code: 555, enhanced: '5.5.4', text: 'Unsupported parameter' },
  badParameterValue: { code: 501, enhanced: '5.5.4', text: 'Invalid parameter value' },
  // MAIL/RCPT bytes that are not UTF-8 (RFC 6531 allows UTF-8 addresses, nothing else).
  senderNotUtf8: { code: 501, enhanced: '5.1.7', text: 'Bad sender address syntax: not valid UTF-8' },
  recipientNotUtf8: { code: 501, enhanced: '5.1.3', text: 'Bad recipient address syntax: not valid UTF-8' },
  // RFC 6531 §3.5: a UTF-8 address is for a transaction whose MAIL FROM carried SMTPUTF8.
  senderNeedsSmtputf8: { code: 553, enhanced: '5.6.7', text: 'Non-ASCII sender address needs the SMTPUTF8 parameter' },
  recipientNeedsSmtputf8: { code: 553, enhanced: '5.6.7', text: 'Non-ASCII recipient address needs SMTPUTF8 on MAIL FROM' },
  // Submission (RFC 6409, RFC 4954, RFC 7817).
  authRequiresTls: { code: 538, enhanced: '5.7.11', text: 'Encryption required for requested authentication mechanism' },
  authSucceeded: { code: 235, enhanced: '2.7.0', text: 'Authentication successful' },
  authFailed: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  authThrottled: { code: 454, enhanced: '4.7.0', text: 'Too many failed authentication attempts, try again later' },
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  senderNotOwned: { code: 553, enhanced: '5.7.1', text: 'Sender address not owned by the authenticated user' },
  fromNotOwned: { code: 553, enhanced: '5.7.1', text: 'From header address not owned by the authenticated user' },
  queued: { code: 250, enhanced: '2.0.0', text: 'Ok: queued' },
  queueFailure: { code: 451, enhanced: '4.3.0', text: 'Temporary queue failure, try again later' },
  /** An outbound attempt that failed inside Hermod (store down, signer fault); the text is the cause. */
  deliveryFailure: { code: 451, enhanced: '4.3.0', text: 'Temporary delivery failure' },
} as const satisfies Record<string, Reply>;

export type ReplyName = keyof typeof REPLIES;

/**
 * RFC 3464 Status values Hermod writes in its own delivery reports when the next hop's reply gave
 * no enhanced code: delivered, delivery time expired, no answer from the host (RFC 3463).
 */
export const DSN_STATUS = {
  delivered: '2.0.0',
  expired: '5.4.7',
  noAnswer: '4.4.1',
} as const;

/** The part of a plugin verdict that chooses a reply (kept structural: this room imports no other). */
export interface VerdictReply {
  action: 'continue' | 'accept' | 'discard' | 'reject' | 'tempfail';
  text?: string;
  code?: number;
  enhanced?: string;
}

const DEFAULTS = {
  reject: { code: 550, enhanced: '5.7.1' },
  tempfail: { code: 451, enhanced: '4.3.0' },
} as const;

/** Turns a plugin verdict into a reply; `null` for verdicts that let the transaction go on. */
export function replyForVerdict(verdict: VerdictReply): Reply | null {
  switch (verdict.action) {
    case 'reject':
    case 'tempfail': {
      const base = DEFAULTS[verdict.action];
      const code = verdict.code ?? base.code;
      const enhanced = verdict.enhanced ?? (code === base.code ? base.enhanced : `${String(code)[0]}.0.0`);
      return { code, enhanced, text: verdict.text ?? '' };
    }
    case 'discard':
      return REPLIES.discarded;
    default:
      return null;
  }
}

/** The verdict a plugin that throws or overruns its time is given (unless it fails open). */
export function pluginFailureVerdict(): { action: 'tempfail'; text: string; code: number; enhanced: string } {
  const { code, enhanced, text } = REPLIES.pluginFailure;
  return { action: 'tempfail', text, code, enhanced };
}

/** The reply as an Error in the shape smtp-server sends back (responseCode + message). */
export function replyError(reply: Reply): Error & { responseCode: number } {
  const err = new Error(formatReplyText(reply)) as Error & { responseCode: number };
  err.responseCode = reply.code;
  return err;
}

/** "5.1.1 No such user here": the enhanced code leads the text, as RFC 2034 wants. */
export function formatReplyText(reply: Reply): string {
  return `${reply.enhanced} ${reply.text}`;
}

/** "550 5.1.1 No such user here": the whole reply line, as a queue records it. */
export function formatReplyLine(reply: Reply): string {
  return `${reply.code} ${formatReplyText(reply)}`;
}

/** True when a reply text already begins with an enhanced status code. */
export function hasEnhancedCode(text: string): boolean {
  return /^[245]\.\d{1,3}\.\d{1,3}(\s|$)/.test(text);
}

/** "550 5.7.1": how the scorer's ledger line names the reply a refused copy got. */
export function replyCodes(reply: Reply): string {
  return `${reply.code} ${reply.enhanced}`;
}
