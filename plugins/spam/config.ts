import { z } from 'zod';

/** Every rule the baseline scorer knows, in the order it runs them. */
export const RULE_NAMES = [
  'GTUBE',
  'MISSING_DATE',
  'MISSING_MESSAGE_ID',
  'MISSING_FROM',
  'FROM_NAME_HAS_OTHER_ADDRESS',
  'SUBJECT_ALL_CAPS',
  'SUBJECT_EXCESS_PUNCTUATION',
  'DATE_IN_FUTURE',
  'DATE_IN_PAST',
  'ATTACHMENT_ONLY',
  'HTML_ONLY',
  'MANY_RECIPIENTS',
  'UNDISCLOSED_RECIPIENTS',
  'LINK_MANY_DOMAINS',
  'LINK_IP_LITERAL',
  'LINK_TEXT_OTHER_DOMAIN',
  'LINK_SHORTENER',
  'HTML_IMAGE_MOSTLY',
  'INVISIBLE_CHARACTERS',
  'MIXED_SCRIPT_WORD',
  'MESSAGE_ID_MALFORMED',
  'MESSAGE_ID_FORGED_OUTLOOK',
  'RISKY_ATTACHMENT',
  'HEADER_8BIT_UNENCODED',
  'BODY_8BIT_UNDECLARED',
  'SPAM_PHRASE',
] as const;

export type RuleName = (typeof RULE_NAMES)[number];

/** Default score per rule; SPAM_PHRASE scores once per distinct phrase found. */
export const DEFAULT_SCORES: Readonly<Record<RuleName, number>> = {
  GTUBE: 1000,
  MISSING_DATE: 1.5,
  MISSING_MESSAGE_ID: 1,
  MISSING_FROM: 2,
  FROM_NAME_HAS_OTHER_ADDRESS: 2.5,
  SUBJECT_ALL_CAPS: 1.5,
  SUBJECT_EXCESS_PUNCTUATION: 1.5,
  DATE_IN_FUTURE: 3,
  DATE_IN_PAST: 0.5,
  ATTACHMENT_ONLY: 1.5,
  HTML_ONLY: 1,
  MANY_RECIPIENTS: 1.5,
  UNDISCLOSED_RECIPIENTS: 0,
  LINK_MANY_DOMAINS: 0,
  LINK_IP_LITERAL: 2,
  LINK_TEXT_OTHER_DOMAIN: 0,
  LINK_SHORTENER: 0,
  HTML_IMAGE_MOSTLY: 1.5,
  INVISIBLE_CHARACTERS: 0,
  MIXED_SCRIPT_WORD: 1.5,
  MESSAGE_ID_MALFORMED: 1,
  MESSAGE_ID_FORGED_OUTLOOK: 3,
  RISKY_ATTACHMENT: 2,
  HEADER_8BIT_UNENCODED: 1.5,
  BODY_8BIT_UNDECLARED: 0.5,
  SPAM_PHRASE: 1,
};

/** A small list of phrases common in spam and rare in ordinary mail, matched as whole words. */
export const DEFAULT_PHRASES: readonly string[] = [
  'act now',
  'limited time offer',
  '100% free',
  'risk-free',
  'you have been selected',
  'double your income',
  'earn money fast',
  'no credit check',
  'lose weight fast',
  'claim your prize',
  'wire transfer fee',
  'click here',
];

const ruleName = z.enum(RULE_NAMES);

export const spamConfigSchema = z.strictObject({
  /** Score overrides by rule name, e.g. `{ HTML_ONLY: 0.5 }`. @defaultValue {} */
  rules: z.partialRecord(ruleName, z.number()).default({}),
  /** Rules not to run at all. @defaultValue [] */
  disabled: z.array(ruleName).default([]),
  /** Phrases added to the built-in list (case-insensitive, whole words). @defaultValue [] */
  extraPhrases: z.array(z.string().trim().min(1)).default([]),
  /** Use the built-in phrase list; false leaves only `extraPhrases`. @defaultValue true */
  builtinPhrases: z.boolean().default(true),
  /** Most distinct phrases that score; more are listed but not counted. @defaultValue 3 */
  maxPhraseHits: z.number().int().min(0).default(3),
  /** To + Cc count above which MANY_RECIPIENTS fires. @defaultValue 15 */
  maxRecipients: z.number().int().positive().default(15),
  /** `!` and `$` in the subject at or above which SUBJECT_EXCESS_PUNCTUATION fires. @defaultValue 3 */
  subjectPunctuation: z.number().int().positive().default(3),
  /** Letters a subject needs before SUBJECT_ALL_CAPS can fire. @defaultValue 6 */
  capsMinLetters: z.number().int().positive().default(6),
  /**
   * Date header this many hours ahead of the receipt time fires DATE_IN_FUTURE. The receipt time
   * is the newest Received header's date (else Delivery-Date, else the clock). @defaultValue 2
   */
  futureHours: z.number().positive().default(2),
  /** Date header this many days before the receipt time fires DATE_IN_PAST. @defaultValue 30 */
  pastDays: z.number().positive().default(30),
  /** Distinct linked sites at or above which LINK_MANY_DOMAINS fires. @defaultValue 4 */
  linkDomains: z.number().int().positive().default(4),
  /** Visible HTML characters below which an HTML body with images is HTML_IMAGE_MOSTLY. @defaultValue 200 */
  imageMostlyText: z.number().int().min(0).default(200),
  /** Characters of body text scanned for GTUBE and phrases. @defaultValue 200000 */
  maxScanChars: z.number().int().positive().default(200_000),
});

export type SpamConfig = z.infer<typeof spamConfigSchema>;

/** The score a rule gives under this config. */
export function ruleScore(config: SpamConfig, name: RuleName): number {
  return config.rules[name] ?? DEFAULT_SCORES[name];
}
