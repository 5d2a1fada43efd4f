import { once } from 'node:events';
import type { AttachmentStream, MailParser, MessageText } from 'mailparser';
import { CONTENT_PARSE_BOUNDS, type MessageContent } from '../mail/message-content.js';
import { loadMailparser } from '../mail/mailparser-loader.js';
import { TimeSlice } from '../pipeline/time-slice.js';

/**
 * Parts parsed per message. mailsplit's default (1,000) fails the whole parse past it, which
 * leaves such a message findable by its summary only; the work per part is small and linear.
 */
const MAX_PARTS = CONTENT_PARSE_BOUNDS.maxParts;

/**
 * Header fields decoded per header block, as the parse plugin's default `maxHeaders`: mailparser
 * decodes every field of a block in one synchronous step (10,000 fields held the event loop for
 * about 50 ms). The document's subject and addresses come from the entry's summary, which the
 * parse plugin cut at the same bound, so the documents do not change.
 */
const MAX_HEADER_LINES = CONTENT_PARSE_BOUNDS.maxHeaders;

/**
 * Bytes decoded of one header field, as the parse plugin's default `maxHeaderFieldBytes`: the
 * address parser costs time per byte of a From or To field (a 100 KiB display name, 20 ms).
 */
const MAX_HEADER_FIELD_BYTES = CONTENT_PARSE_BOUNDS.maxHeaderFieldBytes;

/** The parts of a mailsplit chunk looked at here (mailparser's internals, not in its typings). */
interface SplitterChunk {
  type: string;
  headers?: { getList(): { line: string }[]; lines: { line: string }[] | false };
}

/**
 * MailParser with each header block cut to MAX_HEADER_LINES fields of MAX_HEADER_FIELD_BYTES
 * before they are decoded; built from the class once mailparser is loaded (see loadParserClass).
 */
function headerBounded(Base: typeof MailParser): typeof MailParser {
  const processChunk = (Base.prototype as unknown as { processChunk(data: SplitterChunk, done: (err?: Error) => void): void }).processChunk;
  return class HeaderBoundedParser extends Base {
    processChunk(data: SplitterChunk, done: (err?: Error) => void): void {
      if (data.type === 'node' && data.headers) {
        let lines = data.headers.getList();
        if (lines.length > MAX_HEADER_LINES) data.headers.lines = lines = lines.slice(0, MAX_HEADER_LINES);
        for (const field of lines) if (field.line.length > MAX_HEADER_FIELD_BYTES) field.line = field.line.slice(0, MAX_HEADER_FIELD_BYTES);
      }
      processChunk.call(this, data, done);
    }
  };
}

/**
 * Bytes written to the parser at a time: one write of a whole message lets mailsplit and the
 * decoders work through it in long synchronous stretches (a 1 MiB base64 line blocked the event
 * loop for 200 ms); slices with backpressure keep each stretch short.
 */
const FEED_BYTES = 16 * 1024;

async function feedInSlices(parser: MailParser, raw: Buffer): Promise<void> {
  // A write the parser keeps up with returns true and is parsed at once: without a turn of the
  // event loop between such writes, the slices would run back to back as one stretch.
  const slice = new TimeSlice();
  for (let at = 0; at < raw.length; at += FEED_BYTES) {
    if (parser.destroyed) return;
    if (!parser.write(raw.subarray(at, at + FEED_BYTES))) await once(parser, 'drain');
    await slice.pause();
  }
  parser.end();
}

let parserClass: typeof MailParser | undefined;

/** The header-bounded parser class, made once mailparser is loaded (with the first message, see loadMailparser). */
async function loadParserClass(): Promise<typeof MailParser> {
  parserClass ??= headerBounded((await loadMailparser()).MailParser);
  return parserClass;
}

/**
 * Parses a message with mailparser's streaming MailParser for indexing: attachments are read and
 * dropped (only their names count), and HTML is not converted to text here. html-to-text is
 * superlinear on hostile markup (seconds for a megabyte of `<p>x`); the caller strips a bounded
 * slice of the HTML in one linear pass instead.
 */
export async function parseMessageText(raw: Buffer): Promise<MessageContent> {
  const HeaderBoundedParser = parserClass ?? (await loadParserClass());
  const parser = new HeaderBoundedParser({ skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, checksumAlgo: false, maxChildNodes: MAX_PARTS });
  const attachments: MessageContent['attachments'] = [];
  let text: MessageText | undefined;
  return new Promise((resolve, reject) => {
    parser.once('error', reject);
    parser.on('data', (item: AttachmentStream | MessageText) => {
      if (item.type !== 'attachment') {
        text = item;
        return;
      }
      attachments.push({ filename: item.filename ?? '', related: item.related === true });
      item.content.on('data', () => undefined);
      item.content.once('end', () => item.release?.());
    });
    parser.once('end', () =>
      resolve({
        subject: parser.subject,
        from: parser.from,
        to: parser.to,
        cc: parser.cc,
        text: typeof text?.text === 'string' ? text.text : '',
        html: typeof text?.html === 'string' ? text.html : '',
        attachments,
      }),
    );
    feedInSlices(parser, raw).catch(reject);
  });
}
