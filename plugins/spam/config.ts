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
  DATE_IN_FUTURE: 2,
  DATE_IN_PAST: 1,
  ATTACHMENT_ONLY: 1.5,
  HTML_ONLY: 1,
  MANY_RECIPIENTS: 1.5,
  UNDISCLOSED_RECIPIENTS: 1,
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
  /** Date header this many hours ahead of now fires DATE_IN_FUTURE. @defaultValue 24 */
  futureHours: z.number().positive().default(24),
  /** Date header this many days before now fires DATE_IN_PAST. @defaultValue 30 */
  pastDays: z.number().positive().default(30),
  /** Characters of body text scanned for GTUBE and phrases. @defaultValue 200000 */
  maxScanChars: z.number().int().positive().default(200_000),
});

export type SpamConfig = z.infer<typeof spamConfigSchema>;

/** The score a rule gives under this config. */
export function ruleScore(config: SpamConfig, name: RuleName): number {
  return config.rules[name] ?? DEFAULT_SCORES[name];
}
