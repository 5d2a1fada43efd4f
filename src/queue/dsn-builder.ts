import { randomBytes } from 'node:crypto';
import { headerText } from '../mail/message-headers.js';
import { DSN_STATUS } from '../mail/replies.js';
import type { JobRecipient } from './types.js';

/**
 * RFC 3464 actions: `failed` (permanent failure or expiry), `delayed` (a warning, delivery goes
 * on), `delivered` (into a mailbox of ours), `relayed` (handed to a next hop without DSN support).
 */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

/** A recipient in a report, with what is reported about it. */
export interface NoticeRecipient extends JobRecipient {
  action: DsnAction;
}

/** What a delivery status notification reports. */
export interface DsnInput {
  /** Hermod's hostname: Reporting-MTA and the From address's domain. */
  reportingMta: string;
  /** The envelope sender the report goes to (never ''). */
  sender: string;
  /** The recipients being reported, each with its action and the last reply it got. */
  recipients: NoticeRecipient[];
  /** The original message: its header section, or all of it for a failure with RET=FULL. */
  original: Buffer;
  /** RET from the sender's MAIL FROM. */
  ret?: 'FULL' | 'HDRS';
  /** ENVID from the sender's MAIL FROM, reported as Original-Envelope-Id. */
  envid?: string;
  arrivalDate: Date;
  /** For `delayed`: when Hermod will give up. */
  willRetryUntil?: Date;
  /** Hermod's queue id of the message, for the operator. */
  queueId: string;
}

/**
 * Builds an RFC 3464 delivery status notification: multipart/report (RFC 6522) with a human
 * part, a message/delivery-status part (per-message fields, then one block per recipient with
 * Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code) and the original headers as
 * text/rfc822-headers. The caller sends it with the null sender, so it never bounces back.
 */
export function buildDsn(input: DsnInput, now = new Date()): Buffer {
  const boundary = `=_hermod_${randomBytes(12).toString('hex')}`;
  const actions = new Set(input.recipients.map((r) => r.action));
  const subject = actions.has('failed')
    ? 'Undelivered Mail Returned to Sender'
    : actions.has('delayed')
      ? 'Delayed Mail (still being retried)'
      : 'Successful Mail Delivery Report';
  const full = actions.has('failed') && input.ret === 'FULL';
  const headers = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.sender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${Date.now().toString(36)}.${randomBytes(6).toString('hex')}@${input.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const parts = [
    ['Content-Type: text/plain; charset=us-ascii', '', humanText(input)].join('\r\n'),
    ['Content-Type: message/delivery-status', '', deliveryStatus(input, now)].join('\r\n'),
    full
      ? ['Content-Type: message/rfc822', '', input.original.toString('latin1')].join('\r\n')
      : ['Content-Type: text/rfc822-headers', '', headerSection(input.original)].join('\r\n'),
  ];
  const body = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n`;
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n${body}`);
}

function humanText(input: DsnInput): string {
  const actions = new Set(input.recipients.map((r) => r.action));
  const lines =
    actions.has('failed')
      ? [
          `This is the mail system at host ${input.reportingMta}.`,
          '',
          'Your message could not be delivered to one or more recipients.',
          'It is attached below (headers only).',
        ]
      : actions.has('delayed')
        ? [
            `This is the mail system at host ${input.reportingMta}.`,
            '',
            'Your message could not be delivered yet. The mail system will keep trying',
            `until ${input.willRetryUntil ? rfc5322Date(input.willRetryUntil) : 'it gives up'}; you need not send it again.`,
          ]
        : [
            `This is the mail system at host ${input.reportingMta}.`,
            '',
            'Your message was delivered to the recipients below, as you asked. A recipient marked',
            '"relayed" was handed to a system that cannot report further delivery.',
          ];
  lines.push('');
  for (const r of input.recipients) lines.push(`<${ascii(r.address)}> (${r.action}): ${ascii(r.lastResponse ?? 'no reply')}`);
  return lines.join('\r\n') + '\r\n';
}

/** The message/delivery-status body: per-message fields, a blank line, then per-recipient blocks. */
function deliveryStatus(input: DsnInput, now: Date): string {
  const head = input.envid ? [`Original-Envelope-Id: ${ascii(input.envid)}`] : [];
  const blocks = [
    [...head, `Reporting-MTA: dns; ${input.reportingMta}`, `X-Hermod-Queue-ID: ${input.queueId}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`],
    ...input.recipients.map((r) => {
      const fields = r.orcpt ? [`Original-Recipient: ${originalRecipient(r.orcpt)}`] : [];
      fields.push(`Final-Recipient: rfc822; ${ascii(r.address)}`, `Action: ${r.action}`, `Status: ${statusOf(r, r.action)}`);
      if (r.remoteMta) fields.push(`Remote-MTA: dns; ${ascii(r.remoteMta)}`);
      if (r.lastResponse) fields.push(diagnostic(r));
      fields.push(`Last-Attempt-Date: ${rfc5322Date(now)}`);
      if (r.action === 'delayed' && input.willRetryUntil) fields.push(`Will-Retry-Until: ${rfc5322Date(input.willRetryUntil)}`);
      return fields;
    }),
  ];
  return blocks.map((b) => b.join('\r\n') + '\r\n').join('\r\n');
}

/**
 * The RFC 3463 status of a recipient: the enhanced code of its last reply when there was one,
 * else the class of the action with a generic detail (DSN_STATUS in src/mail/replies.ts).
 */
export function statusOf(r: JobRecipient, action: DsnAction): string {
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(r.lastResponse ?? '')?.[1];
  if (action === 'delivered' || action === 'relayed') return enhanced?.startsWith('2') ? enhanced : DSN_STATUS.delivered;
  const klass = action === 'failed' ? '5' : '4';
  if (enhanced && enhanced[0] === klass) return enhanced;
  if (enhanced) return `${klass}${enhanced.slice(1)}`;
  if (r.lastCode && r.lastCode >= 400) return `${klass}.0.0`;
  return action === 'failed' ? DSN_STATUS.expired : DSN_STATUS.noAnswer;
}

/** ORCPT as RFC 3464 §2.3.1 wants it: `addr-type; address`, the address in xtext when not 7-bit. */
function originalRecipient(orcpt: string): string {
  const semi = orcpt.indexOf(';');
  const value = orcpt.slice(semi + 1).replace(/[^\x21-\x2a\x2c-\x3c\x3e-\x7e]/g, (c) =>
    [...Buffer.from(c)].map((b) => `+${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  return `${orcpt.slice(0, semi)}; ${value}`;
}

/** `Diagnostic-Code: smtp; <the reply>` for a reply; `X-Hermod;` for a local reason. */
function diagnostic(r: JobRecipient): string {
  const text = ascii(r.lastResponse ?? '').slice(0, 900);
  return /^\d{3}\b/.test(text) ? `Diagnostic-Code: smtp; ${text}` : `Diagnostic-Code: X-Hermod; ${text}`;
}

/** The original's header section (up to the first empty line), with CRLF line ends. */
export function headerSection(raw: Buffer): string {
  // Only the header section is turned into text, not the whole original.
  return headerText(raw).replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** Keeps the report 7-bit: anything else (and CR/LF) becomes '?' or a space. */
function ascii(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}

function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
