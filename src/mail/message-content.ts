import type { AddressObject } from 'mailparser';

/**
 * What a message's search document takes from its bytes, as mailparser reads them: the decoded
 * subject and address headers, the text and HTML parts, and every attachment part. The indexer
 * parses the stored bytes into it; the parse plugin, having read the same bytes at delivery,
 * hands it over instead when its reading is provably the same (see `readsLikeTheIndexer`), so
 * the indexer need not read the message back and parse it again.
 */
export interface MessageContent {
  subject?: string;
  from?: AddressObject;
  to?: AddressObject | AddressObject[];
  cc?: AddressObject | AddressObject[];
  /** The text/plain parts as mailparser joins them, '' when none. */
  text: string;
  /** The text/html parts as mailparser joins them, '' when none (not converted to text). */
  html: string;
  /** Every attachment part: its file name ('' when none) and whether it is an inline part of multipart/related. */
  attachments: { filename: string; related: boolean }[];
}

/**
 * The bounds within which the indexer parses stored bytes into MessageContent. A parse within
 * tighter bounds that hit none of them read every header line, field byte and part the
 * indexer's would, so it yields the same content.
 */
export const CONTENT_PARSE_BOUNDS = {
  /** Parts mailsplit reads before it fails the whole parse (its `maxChildNodes`). */
  maxParts: 10_000,
  /** Header fields decoded per header block. */
  maxHeaders: 1000,
  /** Bytes decoded of one header field. */
  maxHeaderFieldBytes: 32 * 1024,
  /**
   * What mailsplit lets one header block cost (its default `maxHeadSize`, 1 MiB). A block costs
   * its bytes, with every line counted at least HEADER_LINE_COST bytes.
   */
  maxHeadCost: 1024 * 1024,
} as const;

/** The least bytes mailsplit counts a header line for against `maxHeadCost`. */
const HEADER_LINE_COST = 64;

/** Limits of a bounded parse, as the parse plugin configures them. */
export interface ContentParseLimits {
  maxHeaders: number;
  maxHeaderBytes: number;
  maxHeaderFieldBytes: number;
  maxParts: number;
}

/**
 * Whether a parse within `limits` that hit none of them reads a message exactly as the indexer
 * does: every bound at least as tight as the indexer's, so no input the indexer cuts or refuses
 * passes it unhit. (Depth and per-part text bounds the indexer does not have only ever cut.)
 */
export function readsLikeTheIndexer(limits: ContentParseLimits): boolean {
  const bounds = CONTENT_PARSE_BOUNDS;
  return (
    limits.maxHeaders <= bounds.maxHeaders &&
    limits.maxHeaderFieldBytes <= bounds.maxHeaderFieldBytes &&
    limits.maxParts < bounds.maxParts &&
    limits.maxHeaderBytes + HEADER_LINE_COST * limits.maxHeaders <= bounds.maxHeadCost
  );
}

/** Fixed bytes counted per content and per string beside its characters (objects, headers of strings). */
const OVERHEAD_BYTES = 512;
const PER_STRING_BYTES = 32;

/**
 * About the bytes a content keeps alive: two per character (a string with any non-Latin-1
 * character is stored two bytes a character), plus fixed overheads. An estimate for a memory budget,
 * not an exact figure.
 */
export function contentBytes(content: MessageContent): number {
  let chars = content.text.length + content.html.length + (content.subject?.length ?? 0);
  for (const field of [content.from, content.to, content.cc]) {
    for (const object of field === undefined ? [] : Array.isArray(field) ? field : [field]) {
      chars += object.text.length + object.html.length + 2 * PER_STRING_BYTES * object.value.length;
    }
  }
  for (const attachment of content.attachments) chars += attachment.filename.length + PER_STRING_BYTES;
  return OVERHEAD_BYTES + 2 * chars;
}
