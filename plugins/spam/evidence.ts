/**
 * Evidence rules beyond the baseline: links, HTML shape, obfuscation, header chains, attachments
 * and charsets. Each is a named rule with a score (config.ts); each reads bounded slices of the
 * message with linear scans.
 */
import { bodyStart, headerText, whiteSpaceChunks, type ParsedMessage, type TimeSlice } from '../../src/plugin-api.js';
import type { SpamConfig } from './config.js';
import { scanHtmlSliced, type HtmlScan } from './html-scan.js';
import { linkEvidence, type LinkEvidence } from './links.js';

/** What several rules read, computed once per message. */
export interface Evidence {
  /** When the message reached us: the newest Received header's time, else the clock. */
  receivedAt: Date;
  html: HtmlScan;
  links: LinkEvidence;
}

/** Longest header value read by a rule. */
const MAX_HEADER = 4096;

/**
 * The receipt time: the date after the last `;` of the newest (topmost) Received header, which
 * the receiving side wrote (Postfix before LMTP, or Hermod's own on a stored copy being
 * reclassified); without any Received header a Delivery-Date header; else the clock. A forged
 * one can only hide a date rule, never make it fire on honest mail.
 */
export function receiptTime(parsed: ParsedMessage, now: Date): Date {
  const top = parsed.headers.get('received')?.[0]?.slice(0, MAX_HEADER);
  // Without Received, a delivery agent's Delivery-Date (procmail, mutt) says when it arrived.
  const delivered = parsed.headers.get('delivery-date')?.[0]?.slice(0, MAX_HEADER);
  const stamp = top === undefined ? delivered : top.lastIndexOf(';') >= 0 ? top.slice(top.lastIndexOf(';') + 1) : undefined;
  if (stamp === undefined) return now;
  const ms = Date.parse(withoutTrailingComment(stamp));
  return Number.isFinite(ms) ? new Date(ms) : now;
}

/** A date value without a trailing `(comment)` such as `(PDT)`, which Date.parse refuses. */
export function withoutTrailingComment(value: string): string {
  const trimmed = value.trim();
  if (!trimmed.endsWith(')')) return trimmed;
  const open = trimmed.lastIndexOf('(');
  return open < 0 ? trimmed : trimmed.slice(0, open).trim();
}

export async function gatherEvidence(parsed: ParsedMessage, config: SpamConfig, now: Date, slice: TimeSlice): Promise<Evidence> {
  const html = await scanHtmlSliced(parsed.html, config.maxScanChars, slice);
  await slice.pause();
  return {
    receivedAt: receiptTime(parsed, now),
    html,
    links: linkEvidence(html.links, parsed.text.slice(0, config.maxScanChars)),
  };
}

/** Zero-width and invisible characters spam puts inside words to dodge word filters. */
const INVISIBLE = /[\u200b-\u200d\u2060\ufeff\u00ad\u034f]/;

export function hasInvisibleCharacters(parsed: ParsedMessage, config: SpamConfig): boolean {
  return INVISIBLE.test(parsed.subject) || INVISIBLE.test(parsed.text.slice(0, config.maxScanChars));
}

type Script = 'latin' | 'cyrillic' | 'greek' | null;

const NON_ASCII = /[^\x00-\x7f]/;

function scriptOf(code: number): Script {
  if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0xc0 && code <= 0x24f)) return 'latin';
  if (code >= 0x400 && code <= 0x4ff) return 'cyrillic';
  if (code >= 0x370 && code <= 0x3ff) return 'greek';
  return null;
}

/** A word mixing Latin letters with Cyrillic or Greek look-alikes ("Pаypal" with a Cyrillic а). */
export function hasMixedScriptWord(text: string): boolean {
  // Cyrillic and Greek lie above ASCII: text without a non-ASCII character mixes nothing. One
  // linear regex scan instead of a walk that makes a string of every character (the common case,
  // and the walk's cost moved with how V8 happened to optimise it: up to 0.9 ms per 4 KiB).
  if (!NON_ASCII.test(text)) return false;
  let seen: Script = null;
  // By index, not `for (const ch of text)`: the iterator makes a string of every character.
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i)!;
    if (code > 0xffff) i++; // the second half of a surrogate pair
    const script = scriptOf(code);
    if (script === null) {
      // ASCII outside A-Z/a-z is never a letter: the Unicode test is only needed above it (a
      // megabyte of '<' would otherwise run a regex per character).
      if (code < 0x80 || !/\p{L}/u.test(String.fromCodePoint(code))) seen = null;
      continue;
    }
    if (seen !== null && seen !== script) return true;
    seen = script;
  }
  return false;
}

/**
 * hasMixedScriptWord piece by piece, with a turn of the event loop between pieces when the slice
 * is spent. Pieces are cut before white space, which ends a word, so the answer is the same.
 */
export async function hasMixedScriptWordSliced(text: string, slice: TimeSlice): Promise<boolean> {
  for (const piece of whiteSpaceChunks(text)) {
    if (hasMixedScriptWord(piece)) return true;
    await slice.pause();
  }
  return false;
}

/** File name endings that run code when opened. */
export const RISKY_EXTENSIONS: ReadonlySet<string> = new Set([
  'exe', 'scr', 'pif', 'bat', 'cmd', 'com', 'cpl', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh', 'hta', 'lnk', 'msi', 'jar', 'ps1', 'reg', 'iso',
]);

export function hasRiskyAttachment(parsed: ParsedMessage): boolean {
  return parsed.attachments.some((a) => {
    const name = a.filename.toLowerCase().trim();
    const dot = name.lastIndexOf('.');
    return dot >= 0 && RISKY_EXTENSIONS.has(name.slice(dot + 1));
  });
}

/**
 * Subject or From carries raw 8-bit bytes instead of RFC 2047 encoded words (charset undeclared).
 * Only the header section is read (the plugin API's headerText, at most MAX_HEADER_SECTION bytes).
 */
export function hasUnencoded8bitHeader(raw: Buffer): boolean {
  for (const line of headerText(raw).split('\n')) {
    const lower = line.slice(0, 8).toLowerCase();
    if (!lower.startsWith('subject:') && !lower.startsWith('from:')) continue;
    for (let i = 0; i < line.length && i < MAX_HEADER; i++) if (line.charCodeAt(i) >= 0x80) return true;
  }
  return false;
}

/** Body bytes searched for an 8-bit byte. */
const MAX_BODY_SCAN = 200_000;

/**
 * A single-part text message whose body has 8-bit bytes while its Content-Type declares no
 * charset (or US-ASCII): the sender did not say how to read it.
 */
export function hasUndeclared8bitBody(parsed: ParsedMessage, raw: Buffer): boolean {
  const type = (parsed.headers.get('content-type')?.[0] ?? 'text/plain').slice(0, MAX_HEADER).toLowerCase();
  if (!type.startsWith('text/')) return false;
  const at = type.indexOf('charset');
  if (at >= 0 && !type.slice(at, at + 40).includes('ascii')) return false;
  const cte = (parsed.headers.get('content-transfer-encoding')?.[0] ?? '').toLowerCase();
  if (cte.includes('base64') || cte.includes('quoted')) return false;
  // The body starts after the header section's empty line (the same one every header reader finds).
  const head = bodyStart(raw);
  const end = Math.min(raw.length, head + MAX_BODY_SCAN);
  for (let i = head; i < end; i++) if (raw[i] >= 0x80) return true;
  return false;
}

/** A Message-ID that is not `<left@right>`: missing brackets, no `@`, white space, or an empty side. */
export function hasMalformedMessageId(parsed: ParsedMessage): boolean {
  const value = parsed.headers.get('message-id')?.[0]?.trim().slice(0, MAX_HEADER);
  if (!value) return false;
  if (!value.startsWith('<') || !value.endsWith('>') || /\s/.test(value)) return true;
  const at = value.indexOf('@');
  return at <= 1 || at >= value.length - 2;
}

/** Outlook's and Outlook Express's Message-ID form: `<` 12 hex `$` 8 hex `$` 8 hex `@`. */
const OUTLOOK_MESSAGE_ID = /^<[0-9a-f]{12}\$[0-9a-f]{8}\$[0-9a-f]{8}@/i;

/**
 * The Message-ID has the form only Microsoft's mailers make, but no Microsoft mailer is named
 * (X-Mailer missing or another one): spamware imitating Outlook.
 */
export function hasForgedOutlookMessageId(parsed: ParsedMessage): boolean {
  const value = parsed.headers.get('message-id')?.[0]?.trim().slice(0, 200) ?? '';
  if (!OUTLOOK_MESSAGE_ID.test(value)) return false;
  const mailer = (parsed.headers.get('x-mailer')?.[0] ?? '').slice(0, 200).toLowerCase();
  return !mailer.includes('microsoft') && !mailer.includes('outlook');
}

/** Visible HTML text shorter than `minText` characters while it shows images (an image is the message). */
export function isImageMostly(evidence: Evidence, minText: number): boolean {
  return evidence.html.images > 0 && evidence.html.text.replace(/\s+/g, ' ').trim().length < minText;
}
