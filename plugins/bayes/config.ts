import { z } from 'zod';

const tokenizerSchema = z
  .strictObject({
    /** Also emit pairs of adjacent body words (`bi:a b`). @defaultValue false */
    bigrams: z.boolean().default(false),
    /** Tokens from headers (subject words, addresses, header names, Received hosts). @defaultValue true */
    headers: z.boolean().default(true),
    /** Characters of body text tokenized; the rest is ignored. @defaultValue 200000 */
    maxBodyChars: z.number().int().positive().default(200_000),
    /** Most distinct tokens per message (headers first, then body). @defaultValue 3000 */
    maxTokens: z.number().int().positive().default(3000),
  })
  .prefault({});

/** One point of the score scale: [spam probability, score]. */
const scalePoint = z.tuple([z.number().min(0).max(1), z.number()]);

/**
 * The score by spam probability, as points joined by straight lines (SpamAssassin's BAYES_00 …
 * BAYES_99 as a continuous curve): every probability contributes, the unsure band included.
 * Chosen on the development training part of the SpamAssassin corpus (see README).
 */
export const DEFAULT_SCALE: ReadonlyArray<readonly [number, number]> = [
  [0, -1],
  [0.1, -0.5],
  [0.3, 0],
  [0.4, 1],
  [0.5, 4],
  [0.6, 5],
  [0.8, 5.5],
  [0.9, 6],
  [0.99, 7],
  [1, 8],
];

const mailboxSchema = z
  .strictObject({
    /**
     * How per-mailbox statistics are used: `fallback` classifies with the mailbox's own statistics
     * once it has learned `minTrained` spam and ham, else with the global ones (DSPAM-like);
     * `merge` adds the mailbox's counts to the global ones; `global` ignores mailbox statistics.
     * @defaultValue "fallback"
     */
    mode: z.enum(['fallback', 'merge', 'global']).default('fallback'),
    /** Spam and ham messages a mailbox must have learned before `fallback` uses it. @defaultValue 50 */
    minTrained: z.number().int().min(1).default(50),
    /** Corrections in a mailbox (message move, spam train --mailbox) also teach the global scope. @defaultValue true */
    learnGlobal: z.boolean().default(true),
  })
  .prefault({});

export const bayesConfigSchema = z
  .strictObject({
    /** Robinson's s: how strongly the prior `x` weighs against a token's few sightings. @defaultValue 0.45 */
    s: z.number().positive().default(0.45),
    /** Robinson's x: the probability assumed for a token never seen. @defaultValue 0.5 */
    x: z.number().gt(0).lt(1).default(0.5),
    /** Tokens whose f(w) lies closer than this to 0.5 are not used as evidence. @defaultValue 0.1 */
    minStrength: z.number().min(0).lt(0.5).default(0.1),
    /** Most tokens (the strongest) combined per message. @defaultValue 150 */
    maxClues: z.number().int().positive().default(150),
    /** Probability at or below which a message is ham. @defaultValue 0.2 */
    unsureLow: z.number().min(0).max(1).default(0.2),
    /**
     * Probability at or above which a message is spam. 0.85 rather than SpamBayes' 0.9: on the
     * SpamAssassin corpus it gains 0.7 points of recall for one more false positive (see README).
     * @defaultValue 0.85
     */
    unsureHigh: z.number().min(0).max(1).default(0.85),
    /**
     * Spam and ham messages the statistics need before the filter contributes a score; until then
     * it reports `untrained` with score 0 and says so in the ledger. @defaultValue 200
     */
    minTrained: z.number().int().min(1).default(200),
    /**
     * Score by probability: [probability, score] points in rising probability, joined linearly;
     * below the first point the first score holds, above the last the last. Detection only, the
     * scorer decides. @defaultValue see DEFAULT_SCALE
     */
    scale: z
      .array(scalePoint)
      .min(2)
      .default(DEFAULT_SCALE.map(([p, score]) => [p, score] as [number, number]))
      .refine((points) => points.every((pt, i) => i === 0 || pt[0] > points[i - 1][0]), {
        message: 'scale points must be in strictly rising probability',
      }),
    mailbox: mailboxSchema,
    tokenizer: tokenizerSchema,
  })
  .refine((c) => c.unsureLow < c.unsureHigh, {
    message: 'unsureLow must be below unsureHigh',
    path: ['unsureLow'],
  });

export type BayesConfig = z.infer<typeof bayesConfigSchema>;
export type TokenizerOptions = BayesConfig['tokenizer'];
