import type { AddressObject, EmailAddress } from 'mailparser';
import type { MailboxEntry } from '../store/types.js';
import { htmlToPlainTextSteps } from '../mail/html-text.js';
import { runPassSliced, TimeSlice } from '../pipeline/time-slice.js';
import type { MessageContent } from '../mail/message-content.js';
import { parseMessageText } from './message-text.js';
import type { SearchDocument } from './search-index.js';

/**
 * Most body characters indexed per message. Past this, a message is a data dump (logs, base64
 * pasted inline) rather than prose, and indexing it all would bloat the index for no findability.
 */
export const MAX_BODY_CHARS = 1_000_000;

/**
 * Builds the search document for one mailbox entry from its raw bytes.
 *
 * Summary fields (subject, addresses, attachment names) come from the entry, which the pipeline's
 * parse step filled at delivery; where the entry has none (parse plugin not in the chain, or an old
 * entry), they are taken from the parsed message instead. The body always comes from the raw bytes.
 *
 * The document's date is the entry's arrival time, not the Date header: that is what folder
 * listings sort by (entry ids are time-ordered), and a sender cannot forge it.
 */
export async function buildSearchDocument(
  entry: MailboxEntry,
  raw: Buffer,
  version: number,
): Promise<SearchDocument> {
  return documentFromContent(entry, await parseMessageText(raw), version);
}

/**
 * Builds the search document for one mailbox entry from its content as parsed from its bytes:
 * by the indexer from the stored raw message, or handed over by the delivery that parsed the
 * same bytes (then the document is the same, see readsLikeTheIndexer).
 */
export async function documentFromContent(
  entry: MailboxEntry,
  parsed: MessageContent,
  version: number,
): Promise<SearchDocument> {
  const summary = entry.summary;
  // Inline parts of multipart/related (logos in an HTML body) are not what a user means by
  // "has an attachment".
  const realAttachments = parsed.attachments.filter((attachment) => !attachment.related);
  const parsedAttachments = realAttachments
    .map((attachment) => attachment.filename)
    .filter((name) => name !== '');
  const attachmentNames =
    summary.attachments.length > 0 ? summary.attachments.map((a) => a.filename) : parsedAttachments;
  return {
    ...summaryDocument(entry, version),
    subject: summary.subject || (parsed.subject ?? ''),
    from: summary.from || formatAddresses(parsed.from).join(', '),
    to: summary.to.length > 0 ? summary.to : formatAddresses(parsed.to),
    cc: summary.cc.length > 0 ? summary.cc : formatAddresses(parsed.cc),
    body: (await bodyText(parsed)).slice(0, MAX_BODY_CHARS),
    attachmentNames,
    hasAttachment: attachmentNames.length > 0 || realAttachments.length > 0,
  };
}

/**
 * A document from the entry alone, with an empty body: what the indexer falls back to when the
 * raw bytes are missing or unreadable, so the entry stays findable by subject and addresses.
 */
export function summaryDocument(entry: MailboxEntry, version: number): SearchDocument {
  const summary = entry.summary;
  return {
    entryId: entry.id,
    mailboxId: entry.mailboxId,
    folder: entry.folder,
    subject: summary.subject,
    from: summary.from,
    to: summary.to,
    cc: summary.cc,
    body: '',
    attachmentNames: summary.attachments.map((a) => a.filename),
    hasAttachment: summary.attachments.length > 0,
    tags: entry.tags,
    threadId: entry.threadId,
    date: entry.receivedAt,
    size: entry.size,
    version,
  };
}

/**
 * The plain text of the body: the text parts, else the HTML stripped of markup. Only a bounded
 * slice of the HTML is stripped (markup shrinks; twice the indexed length leaves room for it).
 */
async function bodyText(parsed: MessageContent): Promise<string> {
  if (parsed.text.trim() !== '') return parsed.text;
  // Up to 2 MB of markup: stripped with turns of the event loop, so delivery is not held up by the indexer.
  return runPassSliced(htmlToPlainTextSteps(parsed.html.slice(0, 2 * MAX_BODY_CHARS)), new TimeSlice());
}

/** `Name <addr>` (or just `addr`) for every address, groups flattened. */
function formatAddresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  const objects = Array.isArray(field) ? field : [field];
  const out: string[] = [];
  const visit = (address: EmailAddress): void => {
    if (address.group) {
      address.group.forEach(visit);
      return;
    }
    if (!address.address && !address.name) return;
    out.push(address.name ? `${address.name} <${address.address ?? ''}>` : (address.address ?? ''));
  };
  for (const object of objects) object.value.forEach(visit);
  return out;
}
