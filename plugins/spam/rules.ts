import { addressParser, holdsFolded, type ParsedMessage, type TimeSlice } from '../../src/plugin-api.js';
import type { RuleName, SpamConfig } from './config.js';
import {
  hasForgedOutlookMessageId, hasInvisibleCharacters, hasMalformedMessageId, hasMixedScriptWord, hasMixedScriptWordSliced, hasRiskyAttachment, hasUndeclared8bitBody,
  hasUnencoded8bitHeader, isImageMostly, type Evidence,
} from './evidence.js';

/** GTUBE: the standard string any filter must treat as spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** What every rule may read. `now` is passed in so date rules are testable. */
export interface RuleInput {
  parsed: ParsedMessage;
  raw: Buffer;
  config: SpamConfig;
  now: Date;
  /** Computed once per message (gatherEvidence). */
  evidence: Evidence;
}

/** A rule with a fixed score: true when it fires. SPAM_PHRASE is scored apart (per phrase). */
/** A rule; the long ones take the slice, to give the event loop turns on a large body. */
export type RuleCheck = (input: RuleInput, slice: TimeSlice) => boolean | Promise<boolean>;

const HOUR = 3_600_000;

const has = (parsed: ParsedMessage, header: string): boolean =>
  (parsed.headers.get(header) ?? []).some((v) => v.trim() !== '');

function bodyText(input: RuleInput): string {
  return input.parsed.text.slice(0, input.config.maxScanChars);
}

/** Bytes of the raw message searched between two looks at the slice's clock. */
const RAW_WINDOW = 1024 * 1024;

/** Whether the raw bytes hold GTUBE, searched a window at a time (windows overlap by its length). */
async function rawHoldsGtube(raw: Buffer, slice: TimeSlice): Promise<boolean> {
  for (let at = 0; at < raw.length; at += RAW_WINDOW) {
    if (raw.subarray(at, at + RAW_WINDOW + GTUBE.length - 1).includes(GTUBE)) return true;
    await slice.pause();
  }
  return false;
}

async function gtube({ raw, parsed, config }: RuleInput, slice: TimeSlice): Promise<boolean> {
  // Raw bytes first (catches any 7bit part), then the decoded text for base64/QP bodies.
  return (
    (await rawHoldsGtube(raw, slice)) ||
    parsed.text.slice(0, config.maxScanChars).includes(GTUBE) ||
    parsed.html.slice(0, config.maxScanChars).includes(GTUBE)
  );
}

/** Characters that end an address found in free text. */
const ADDRESS_STOP = new Set([' ', '\t', '\r', '\n', '<', '>', '"', "'", '(', ')', '@', ',', ';', ':']);

/**
 * The first `local@domain.tld` in free text, found around each `@` by bounded forward and
 * backward scans (linear: each character is looked at a bounded number of times).
 */
export function emailInText(text: string): string | undefined {
  const limit = Math.min(text.length, 4096);
  for (let at = text.indexOf('@'); at >= 0 && at < limit; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 254 && !ADDRESS_STOP.has(text[start - 1])) start--;
    let end = at + 1;
    while (end < limit && end - at < 254 && !ADDRESS_STOP.has(text[end])) end++;
    const domain = text.slice(at + 1, end);
    const dot = domain.lastIndexOf('.');
    if (start < at && dot > 0 && /^[a-z]{2,}$/i.test(domain.slice(dot + 1))) return text.slice(start, end);
  }
  return undefined;
}

/** The From display name carries an address that is not the From address (spoofing trick). */
function fromNameHasOtherAddress({ parsed }: RuleInput): boolean {
  const raw = parsed.headers.get('from')?.[0];
  if (!raw) return false;
  return addressParser()(raw.slice(0, 4096), { flatten: true }).value.some((entry) => {
    const inName = emailInText(entry.name ?? '');
    return inName !== undefined && inName.toLowerCase() !== (entry.address ?? '').toLowerCase();
  });
}

function subjectAllCaps({ parsed, config }: RuleInput): boolean {
  const letters = parsed.subject.match(/\p{L}/gu) ?? [];
  const upper = parsed.subject.match(/\p{Lu}/gu) ?? [];
  return letters.length >= config.capsMinLetters && upper.length === letters.length;
}

function subjectPunctuation({ parsed, config }: RuleInput): boolean {
  return (parsed.subject.match(/[!$]/g) ?? []).length >= config.subjectPunctuation;
}

/** Date header ahead of the receipt time (not of today: reclassified or archived mail is old). */
function dateInFuture({ parsed, config, evidence }: RuleInput): boolean {
  return parsed.date !== null && parsed.date.getTime() - evidence.receivedAt.getTime() > config.futureHours * HOUR;
}

function dateInPast({ parsed, config, evidence }: RuleInput): boolean {
  return parsed.date !== null && evidence.receivedAt.getTime() - parsed.date.getTime() > config.pastDays * 24 * HOUR;
}

function attachmentOnly({ parsed, evidence }: RuleInput): boolean {
  return parsed.attachments.length > 0 && !NOT_BLANK.test(parsed.text) && !NOT_BLANK.test(evidence.html.text);
}

/** What a text/plain part's header line starts with, lower case: `content-type:` and, after blanks, `text/plain`. */
const CONTENT_TYPE = Buffer.from('content-type:', 'latin1');
const TEXT_PLAIN = Buffer.from('text/plain', 'latin1');

/** A `content-type: text/plain` header line (any case, blanks between) starts at `at`. */
function textPlainLineAt(raw: Buffer, at: number): boolean {
  if (!holdsFolded(raw, at, CONTENT_TYPE)) return false;
  let p = at + CONTENT_TYPE.length;
  while (raw[p] === 0x20 || raw[p] === 0x09) p++;
  return holdsFolded(raw, p, TEXT_PLAIN);
}

/**
 * Whether the message has a text/plain part. mailparser fills `text` from the HTML when there is
 * none, so the question is answered from Content-Type headers instead: the raw bytes are scanned
 * as they are, line start by line start (after CR or LF), never copied into a string.
 */
export async function hasTextPlainPart(parsed: ParsedMessage, raw: Buffer, slice: TimeSlice): Promise<boolean> {
  const top = parsed.headers.get('content-type')?.[0]?.toLowerCase();
  if (top === undefined || top.startsWith('text/plain')) return true;
  if (!top.startsWith('multipart/')) return false;
  if (textPlainLineAt(raw, 0)) return true;
  for (let window = 0; window < raw.length; window += RAW_WINDOW) {
    const end = Math.min(raw.length, window + RAW_WINDOW);
    for (let i = window; i < end; i++) {
      const b = raw[i];
      if ((b === 0x0a || b === 0x0d) && textPlainLineAt(raw, i + 1)) return true;
    }
    if (slice.due) await slice.pause();
  }
  return false;
}

async function htmlOnly({ parsed, raw }: RuleInput, slice: TimeSlice): Promise<boolean> {
  return NOT_BLANK.test(parsed.html) && !(await hasTextPlainPart(parsed, raw, slice));
}

/** Any character trim() would keep: a test for content without trim()'s copy of the text. */
const NOT_BLANK = /\S/;

const recipientCount = (parsed: ParsedMessage): number => parsed.to.length + parsed.cc.length;

/** The fixed-score rules, in RULE_NAMES order. */
export const RULES: ReadonlyArray<[Exclude<RuleName, 'SPAM_PHRASE'>, RuleCheck]> = [
  ['GTUBE', gtube],
  ['MISSING_DATE', ({ parsed }) => !has(parsed, 'date')],
  ['MISSING_MESSAGE_ID', ({ parsed }) => !has(parsed, 'message-id')],
  ['MISSING_FROM', ({ parsed }) => parsed.from.trim() === ''],
  ['FROM_NAME_HAS_OTHER_ADDRESS', fromNameHasOtherAddress],
  ['SUBJECT_ALL_CAPS', subjectAllCaps],
  ['SUBJECT_EXCESS_PUNCTUATION', subjectPunctuation],
  ['DATE_IN_FUTURE', dateInFuture],
  ['DATE_IN_PAST', dateInPast],
  ['ATTACHMENT_ONLY', attachmentOnly],
  ['HTML_ONLY', htmlOnly],
  ['MANY_RECIPIENTS', ({ parsed, config }) => recipientCount(parsed) > config.maxRecipients],
  ['UNDISCLOSED_RECIPIENTS', ({ parsed }) => recipientCount(parsed) === 0],
  ['LINK_MANY_DOMAINS', ({ evidence, config }) => evidence.links.sites.length >= config.linkDomains],
  ['LINK_IP_LITERAL', ({ evidence }) => evidence.links.ipLiteral],
  ['LINK_TEXT_OTHER_DOMAIN', ({ evidence }) => evidence.links.textMismatch],
  ['LINK_SHORTENER', ({ evidence }) => evidence.links.shortener],
  ['HTML_IMAGE_MOSTLY', ({ evidence, config }) => isImageMostly(evidence, config.imageMostlyText)],
  ['INVISIBLE_CHARACTERS', ({ parsed, config }) => hasInvisibleCharacters(parsed, config)],
  // Subject and body apart: a line break ends a word, and the body is read without a joined copy.
  ['MIXED_SCRIPT_WORD', async ({ parsed, config }, slice) =>
    hasMixedScriptWord(parsed.subject) || (await hasMixedScriptWordSliced(parsed.text.slice(0, config.maxScanChars), slice))],
  ['MESSAGE_ID_MALFORMED', ({ parsed }) => hasMalformedMessageId(parsed)],
  ['MESSAGE_ID_FORGED_OUTLOOK', ({ parsed }) => hasForgedOutlookMessageId(parsed)],
  ['RISKY_ATTACHMENT', ({ parsed }) => hasRiskyAttachment(parsed)],
  ['HEADER_8BIT_UNENCODED', ({ raw }) => hasUnencoded8bitHeader(raw)],
  ['BODY_8BIT_UNDECLARED', ({ parsed, raw }) => hasUndeclared8bitBody(parsed, raw)],
];

/** Subject and body text, as scanned for phrases. */
export function phraseText(input: RuleInput): string {
  return `${input.parsed.subject}\n${bodyText(input)}`;
}
