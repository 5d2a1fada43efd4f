import type { ParsedMessage } from '../../src/plugin-api.js';
import { cutLongHeaderFields, headerLinesWithin, type ParseBounds } from './bounds.js';
import { formatAddresses, splitRawAddresses } from './addresses.js';
import { firstValue, headerMap, parseDate, splitHeaderBlock } from './headers.js';
import type { StreamedMail } from './stream-parse.js';
import { deriveThreadId, normalizeMessageId } from './thread-id.js';

/** Turns the streaming parse's result into Hermod's ParsedMessage. */
export function fromStreamedMail(mail: StreamedMail): ParsedMessage {
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
    text: mail.text,
    html: mail.html,
    attachments: mail.attachments,
    headers,
  };
}

/**
 * The minimal ParsedMessage for a message mailparser could not parse: headers read without MIME
 * decoding, the body as text. Good enough for spam rules, classification and a listing line.
 */
export function fallbackParsed(raw: Buffer, bounds?: ParseBounds): ParsedMessage {
  const { lines, body } = splitHeaderBlock(raw);
  const kept = bounds ? lines.slice(0, headerLinesWithin(lines, bounds).keep) : lines;
  if (bounds) cutLongHeaderFields(kept, bounds);
  const headers = headerMap(kept);
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
    text: bounds ? body.slice(0, bounds.maxTextCharsPerPart) : body,
    html: '',
    attachments: [],
    headers,
  };
}
