import { randomBytes } from 'node:crypto';
import type { JobRecipient } from './types.js';

/** What a delivery status notification reports. */
export interface DsnInput {
  /** Hermod's hostname: Reporting-MTA and the From address's domain. */
  reportingMta: string;
  /** The envelope sender the report goes to (never ''). */
  sender: string;
  /** `failed`: a bounce (permanent failure or expiry); `delayed`: a warning, delivery goes on. */
  action: 'failed' | 'delayed';
  /** The recipients being reported, with the last reply each got. */
  recipients: JobRecipient[];
  /** The original message; only its header section is returned. */
  original: Buffer;
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
  const subject =
    input.action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
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
    ['Content-Type: text/rfc822-headers', '', headerSection(input.original)].join('\r\n'),
  ];
  const body = parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + `--${boundary}--\r\n`;
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n${body}`);
}

function humanText(input: DsnInput): string {
  const lines =
    input.action === 'failed'
      ? [
          `This is the mail system at host ${input.reportingMta}.`,
          '',
          'Your message could not be delivered to one or more recipients.',
          'It is attached below (headers only).',
        ]
      : [
          `This is the mail system at host ${input.reportingMta}.`,
          '',
          'Your message could not be delivered yet. The mail system will keep trying',
          `until ${input.willRetryUntil ? rfc5322Date(input.willRetryUntil) : 'it gives up'}; you need not send it again.`,
        ];
  lines.push('');
  for (const r of input.recipients) lines.push(`<${ascii(r.address)}>: ${ascii(r.lastResponse ?? 'no reply')}`);
  return lines.join('\r\n') + '\r\n';
}

/** The message/delivery-status body: per-message fields, a blank line, then per-recipient blocks. */
function deliveryStatus(input: DsnInput, now: Date): string {
  const blocks = [
    [`Reporting-MTA: dns; ${input.reportingMta}`, `X-Hermod-Queue-ID: ${input.queueId}`, `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`],
    ...input.recipients.map((r) => {
      const fields = [
        `Final-Recipient: rfc822; ${ascii(r.address)}`,
        `Action: ${input.action}`,
        `Status: ${statusOf(r, input.action)}`,
      ];
      if (r.remoteMta) fields.push(`Remote-MTA: dns; ${ascii(r.remoteMta)}`);
      if (r.lastResponse) fields.push(diagnostic(r));
      fields.push(`Last-Attempt-Date: ${rfc5322Date(now)}`);
      if (input.action === 'delayed' && input.willRetryUntil) fields.push(`Will-Retry-Until: ${rfc5322Date(input.willRetryUntil)}`);
      return fields;
    }),
  ];
  return blocks.map((b) => b.join('\r\n') + '\r\n').join('\r\n');
}

/**
 * The RFC 3463 status of a recipient: the enhanced code of its last reply when there was one,
 * else the class of the action with a generic detail (4.4.1: no answer from host; 4.4.7/5.4.7:
 * delivery time expired).
 */
export function statusOf(r: JobRecipient, action: 'failed' | 'delayed'): string {
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(r.lastResponse ?? '')?.[1];
  const klass = action === 'failed' ? '5' : '4';
  if (enhanced && enhanced[0] === klass) return enhanced;
  if (enhanced) return `${klass}${enhanced.slice(1)}`;
  if (r.lastCode && r.lastCode >= 400) return `${String(r.lastCode)[0] === klass ? klass : klass}.0.0`;
  return action === 'failed' ? '5.4.7' : '4.4.1';
}

/** `Diagnostic-Code: smtp; 550 5.1.1 ...` for a reply; `X-Hermod;` for a local reason. */
function diagnostic(r: JobRecipient): string {
  const text = ascii(r.lastResponse ?? '').slice(0, 900);
  return /^\d{3}\b/.test(text) ? `Diagnostic-Code: smtp; ${text}` : `Diagnostic-Code: X-Hermod; ${text}`;
}

/** The original's header section (up to the first empty line), with CRLF line ends. */
export function headerSection(raw: Buffer): string {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  return head.replace(/\r?\n/g, '\r\n') + '\r\n';
}

/** Keeps the report 7-bit: anything else (and CR/LF) becomes '?' or a space. */
function ascii(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
}

function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
