import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { AttachmentStream, MessageText } from 'mailparser';
import { loadMailparser, TimeSlice, type AttachmentMeta, type MessageContent } from '../../src/plugin-api.js';
import type { BoundedMailParser } from './bounded-parser.js';
import { BoundRecorder, type BoundHit, type ParseBounds } from './bounds.js';
import type { HeaderLine } from './headers.js';

/**
 * What the streaming parse yields: the fields the ParsedMessage is built from. Subject, addresses,
 * text and HTML are read as the indexer reads them (MessageContent); text and HTML parts are each
 * cut to the per-part bound.
 */
export interface StreamedMail extends Omit<MessageContent, 'attachments'> {
  headerLines: readonly HeaderLine[];
  attachments: AttachmentMeta[];
  /** Every attachment part's file name ('' when none) and whether it is an inline part of multipart/related. */
  attachmentParts: MessageContent['attachments'];
  bounds: BoundHit[];
}

/**
 * A header block larger than this is refused by mailsplit itself (EMAXLEN) instead of being cut:
 * it bounds the synchronous work of splitting one block into lines. Above `maxHeaderBytes`, so a
 * block between the two is cut cleanly to the bound.
 */
function splitterHeadLimit(bounds: ParseBounds): number {
  return Math.max(4 * bounds.maxHeaderBytes, 1024 * 1024);
}

/**
 * Hashes an attachment as it streams (mailparser's StreamHash with SHA-256) and drops its bytes:
 * the content is read and discarded, then released so the parser goes on.
 */
function hashAttachment(attachment: AttachmentStream): Promise<AttachmentMeta> {
  return new Promise((resolve, reject) => {
    const content = attachment.content;
    content.on('data', () => undefined);
    content.once('error', reject);
    content.once('end', () => {
      attachment.release?.();
      resolve({
        filename: attachment.filename ?? '',
        contentType: attachment.contentType,
        size: attachment.size ?? 0,
        sha256: attachment.checksum ?? '',
      });
    });
  });
}

/**
 * Bytes written to the parser at a time. A spool file gives 64 KiB chunks and an in-memory message
 * one chunk of its full size; slicing both keeps backpressure effective, so when a bound stops the
 * parse little input is left buffered inside the parser to be skipped.
 */
const FEED_BYTES = 16 * 1024;

/** Resolves when the parser wants more input, or is gone (destroyed after a failure). */
function drainOrClose(parser: BoundedMailParser): Promise<void> {
  const ac = new AbortController();
  return Promise.race([once(parser, 'drain', { signal: ac.signal }), once(parser, 'close', { signal: ac.signal })]).then(
    () => ac.abort(),
    (err: unknown) => {
      ac.abort();
      throw err;
    },
  );
}

/** Writes `buf` into the parser in FEED_BYTES slices, honouring backpressure; false once a bound stopped it. */
async function feedBuffer(buf: Buffer, parser: BoundedMailParser, slice: TimeSlice): Promise<boolean> {
  for (let at = 0; at < buf.length; at += FEED_BYTES) {
    if (parser.stopped || parser.destroyed) return false;
    if (!parser.write(buf.subarray(at, at + FEED_BYTES))) await drainOrClose(parser);
    if (slice.due) await slice.pause();
  }
  return true;
}

/**
 * Writes the message into the parser until its end or a bound. A message in memory is sliced
 * directly (views of its Buffer, no copy); only a source without one goes through a stream.
 */
async function feed(source: Buffer | Readable, parser: BoundedMailParser): Promise<void> {
  // A write the parser keeps up with is parsed at once and returns true: the slice gives the
  // event loop a turn between such writes, or a message in memory would be parsed in one stretch.
  const slice = new TimeSlice();
  if (Buffer.isBuffer(source)) {
    await feedBuffer(source, parser, slice);
    if (!parser.writableEnded && !parser.destroyed) parser.end();
    return;
  }
  try {
    for await (const chunk of source) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      if (!(await feedBuffer(buf, parser, slice))) return;
    }
  } finally {
    // Leaving the loop early (a bound, an error) destroys the source; the parser ends either way.
    if (!parser.writableEnded && !parser.destroyed) parser.end();
  }
}

let parserClass: typeof BoundedMailParser | undefined;

/** The bounded parser class; mailparser itself is loaded with the first message (loadMailparser). */
async function loadParserClass(): Promise<typeof BoundedMailParser> {
  await loadMailparser();
  parserClass ??= (await import('./bounded-parser.js')).BoundedMailParser;
  return parserClass;
}

/**
 * Parses a message with mailparser's MailParser, within `bounds`: the Buffer that holds it, or the
 * stream `source` opens. Attachments are hashed, never kept. A bound that stops the parse ends the
 * input early: the result holds what was parsed before it, and `bounds` names it. Rejects when
 * mailparser or the source fails.
 */
export async function parseMessageStream(source: Buffer | (() => Readable), bounds: ParseBounds): Promise<StreamedMail> {
  // A stream source is opened after the load, so no error it emits meanwhile goes unheard.
  const BoundedMailParser = parserClass ?? (await loadParserClass());
  const stream = Buffer.isBuffer(source) ? undefined : source();
  const recorder = new BoundRecorder(bounds);
  const parser = new BoundedMailParser(
    {
      // HTML → text is done by the plugin on a bounded slice: html-to-text is superlinear on
      // hostile markup (1.2 s for 64 KiB of `<p>x`).
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      checksumAlgo: 'sha256',
      maxHeadSize: splitterHeadLimit(bounds),
      // The part bound is applied by BoundedMailParser, which stops cleanly; mailsplit's own
      // limit would fail the whole parse instead.
      maxChildNodes: Number.MAX_SAFE_INTEGER,
    },
    bounds,
    recorder,
  );
  const attachments: Promise<AttachmentMeta>[] = [];
  const attachmentParts: StreamedMail['attachmentParts'] = [];
  let text: MessageText | undefined;
  return new Promise<StreamedMail>((resolve, reject) => {
    const fail = (err: Error): void => {
      stream?.destroy();
      parser.destroy();
      reject(err);
    };
    parser.once('error', fail);
    parser.on('data', (item: AttachmentStream | MessageText) => {
      if (item.type === 'attachment') {
        attachmentParts.push({ filename: item.filename ?? '', related: item.related === true });
        attachments.push(hashAttachment(item));
      } else text = item;
    });
    parser.once('end', () => {
      Promise.all(attachments).then((metas) => {
        resolve({
          headerLines: parser.headerLines || [],
          subject: parser.subject,
          from: parser.from,
          to: parser.to,
          cc: parser.cc,
          text: typeof text?.text === 'string' ? text.text : '',
          html: typeof text?.html === 'string' ? text.html : '',
          attachments: metas,
          attachmentParts,
          bounds: recorder.list(),
        });
      }, fail);
    });
    feed(stream ?? (source as Buffer), parser).catch(fail);
  });
}
