import { z } from 'zod';

/**
 * The limits the parse plugin puts on one message's structure. Every input is hostile: a message
 * of 10,000 headers, 5,000 parts or MIME nested 100 deep costs the parser (and every plugin
 * after it) work per header, per part and per level, so each is capped. A cap truncates the
 * parse rather than failing it: the parsed fields stop at the bound and the ledger says which
 * bound was hit.
 */
export const parseBoundsSchema = {
  /** Header fields kept per header block (the message's, and each part's). @defaultValue 1000 */
  maxHeaders: z.number().int().positive().default(1000),
  /** Bytes of header fields kept per header block. @defaultValue 262144 (256 KiB) */
  maxHeaderBytes: z.number().int().positive().default(256 * 1024),
  /**
   * Bytes kept of one header field; the rest of a longer field is dropped. Address parsing and
   * every rule that reads a header cost time per byte, and no honest field needs more.
   * @defaultValue 32768 (32 KiB)
   */
  maxHeaderFieldBytes: z.number().int().positive().default(32 * 1024),
  /** MIME nesting depth parsed; the message itself is depth 0. @defaultValue 50 */
  maxMimeDepth: z.number().int().positive().default(50),
  /** MIME parts parsed (every node, containers included). @defaultValue 1000 */
  maxParts: z.number().int().positive().default(1000),
  /** Characters of each text or HTML part handed to later plugins. @defaultValue 262144 */
  maxTextCharsPerPart: z.number().int().positive().default(256 * 1024),
};

export type BoundName = keyof typeof parseBoundsSchema;

export type ParseBounds = { [K in BoundName]: number };

/** A bound the parse ran into, with the limit that was configured. */
export interface BoundHit {
  bound: BoundName;
  limit: number;
}

/** Collects the bounds hit while one message is parsed, each named once, in the order hit. */
export class BoundRecorder {
  private readonly hits = new Map<BoundName, BoundHit>();

  constructor(readonly bounds: ParseBounds) {}

  hit(bound: BoundName): void {
    if (!this.hits.has(bound)) this.hits.set(bound, { bound, limit: this.bounds[bound] });
  }

  list(): BoundHit[] {
    return [...this.hits.values()];
  }
}

/** One raw header line as mailsplit gives it: lower-case key, the line with its folding. */
interface RawHeaderLine {
  key: string;
  line: string;
}

/** Cuts header fields longer than `maxHeaderFieldBytes` in place; true when one was cut. */
export function cutLongHeaderFields(lines: readonly RawHeaderLine[], bounds: ParseBounds): boolean {
  let cut = false;
  for (const line of lines) {
    if (line.line.length > bounds.maxHeaderFieldBytes) {
      line.line = line.line.slice(0, bounds.maxHeaderFieldBytes);
      cut = true;
    }
  }
  return cut;
}

/**
 * How many of `lines` fit the header bounds: at most `maxHeaders` lines and `maxHeaderBytes`
 * bytes (the line's characters are bytes here: mailsplit keeps header lines as binary strings).
 */
export function headerLinesWithin(lines: readonly RawHeaderLine[], bounds: ParseBounds): { keep: number; hit?: BoundName } {
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i >= bounds.maxHeaders) return { keep: i, hit: 'maxHeaders' };
    bytes += lines[i].line.length + 2; // CRLF
    if (bytes > bounds.maxHeaderBytes) return { keep: i, hit: 'maxHeaderBytes' };
  }
  return { keep: lines.length };
}
