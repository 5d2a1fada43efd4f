import { parseAddressHeader } from 'mailparser';
import type { ParsedMessage } from '../../src/plugin-api.js';
import type { RuleName, SpamConfig } from './config.js';

/** GTUBE: the standard string any filter must treat as spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** What every rule may read. `now` is passed in so date rules are testable. */
export interface RuleInput {
  parsed: ParsedMessage;
  raw: Buffer;
  config: SpamConfig;
  now: Date;
}

/** A rule with a fixed score: true when it fires. SPAM_PHRASE is scored apart (per phrase). */
export type RuleCheck = (input: RuleInput) => boolean;

const HOUR = 3_600_000;
const EMAIL_IN_TEXT = /[^\s<>"'()@,;:]+@[^\s<>"'()@,;:]+\.[a-z]{2,}/i;

const has = (parsed: ParsedMessage, header: string): boolean =>
  (parsed.headers.get(header) ?? []).some((v) => v.trim() !== '');

function bodyText(input: RuleInput): string {
  return input.parsed.text.slice(0, input.config.maxScanChars);
}

function gtube({ raw, parsed, config }: RuleInput): boolean {
  // Raw bytes first (cheap, catches any 7bit part), then the decoded text for base64/QP bodies.
  return (
    raw.includes(GTUBE) ||
    parsed.text.slice(0, config.maxScanChars).includes(GTUBE) ||
    parsed.html.slice(0, config.maxScanChars).includes(GTUBE)
  );
}

/** The From display name carries an address that is not the From address (spoofing trick). */
function fromNameHasOtherAddress({ parsed }: RuleInput): boolean {
  const raw = parsed.headers.get('from')?.[0];
  if (!raw) return false;
  return parseAddressHeader(raw, { flatten: true }).value.some((entry) => {
    const inName = EMAIL_IN_TEXT.exec(entry.name ?? '')?.[0];
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

function dateInFuture({ parsed, config, now }: RuleInput): boolean {
  return parsed.date !== null && parsed.date.getTime() - now.getTime() > config.futureHours * HOUR;
}

function dateInPast({ parsed, config, now }: RuleInput): boolean {
  return parsed.date !== null && now.getTime() - parsed.date.getTime() > config.pastDays * 24 * HOUR;
}

function attachmentOnly({ parsed }: RuleInput): boolean {
  const htmlText = parsed.html.replace(/<[^>]*>/g, '').trim();
  return parsed.attachments.length > 0 && parsed.text.trim() === '' && htmlText === '';
}

/**
 * Whether the message has a text/plain part. mailparser fills `text` from the HTML when there is
 * none, so the question is answered from Content-Type headers instead.
 */
export function hasTextPlainPart(parsed: ParsedMessage, raw: Buffer): boolean {
  const top = parsed.headers.get('content-type')?.[0]?.toLowerCase();
  if (top === undefined || top.startsWith('text/plain')) return true;
  if (!top.startsWith('multipart/')) return false;
  return /^content-type:[ \t]*text\/plain/im.test(raw.toString('latin1'));
}

function htmlOnly({ parsed, raw }: RuleInput): boolean {
  return parsed.html.trim() !== '' && !hasTextPlainPart(parsed, raw);
}

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
];

/** Subject and body text, as scanned for phrases. */
export function phraseText(input: RuleInput): string {
  return `${input.parsed.subject}\n${bodyText(input)}`;
}
