import { createHash } from 'node:crypto';
import type { Attachment, ParsedMail } from 'mailparser';
import type { ParsedMessage } from '../../src/plugin-api.js';
import type { AttachmentMeta } from '../../src/plugin-api.js';
import { formatAddresses, splitRawAddresses } from './addresses.js';
import { firstValue, headerMap, parseDate, splitHeaderBlock } from './headers.js';
import { deriveThreadId, normalizeMessageId } from './thread-id.js';

/** Attachment metadata; the bytes stay in the raw message. */
export function attachmentMeta(attachment: Attachment): AttachmentMeta {
  return {
    filename: attachment.filename ?? '',
    contentType: attachment.contentType,
    size: attachment.content.length,
    sha256: createHash('sha256').update(attachment.content).digest('hex'),
  };
}

/** Turns mailparser's result into Hermod's ParsedMessage. */
export function fromParsedMail(mail: ParsedMail): ParsedMessage {
  const headers = headerMap(mail.headerLines);
  const messageId = normalizeMessageId(firstValue(headers, 'message-id'));
  const subject = mail.subject ?? '';
  const from = formatAddresses(mail.from);
  return {
    subject,
    // An unparseable From keeps its raw text rather than vanishing.
    from: from.length > 0 ? from.join(', ') : (firstValue(headers, 'from') ?? ''),
    to: formatAddresses(mail.to),
    cc: formatAddresses(mail.cc),
    date: parseDate(firstValue(headers, 'date')),
    messageId,
    threadId: deriveThreadId({
      references: headers.get('references')?.join(' '),
      inReplyTo: firstValue(headers, 'in-reply-to'),
      messageId,
      subject,
    }),
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : '',
    attachments: mail.attachments.map(attachmentMeta),
    headers,
  };
}

/**
 * The minimal ParsedMessage for a message mailparser could not parse: headers read without MIME
 * decoding, the body as text. Good enough for spam rules, classification and a listing line.
 */
export function fallbackParsed(raw: Buffer): ParsedMessage {
  const { lines, body } = splitHeaderBlock(raw);
  const headers = headerMap(lines);
  const messageId = normalizeMessageId(firstValue(headers, 'message-id'));
  const subject = firstValue(headers, 'subject') ?? '';
  return {
    subject,
    from: firstValue(headers, 'from') ?? '',
    to: splitRawAddresses(headers.get('to')?.join(', ')),
    cc: splitRawAddresses(headers.get('cc')?.join(', ')),
    date: parseDate(firstValue(headers, 'date')),
    messageId,
    threadId: deriveThreadId({
      references: headers.get('references')?.join(' '),
      inReplyTo: firstValue(headers, 'in-reply-to'),
      messageId,
      subject,
    }),
    text: body,
    html: '',
    attachments: [],
    headers,
  };
}
