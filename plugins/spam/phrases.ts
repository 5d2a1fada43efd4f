import type { SpamConfig } from './config.js';
import { DEFAULT_PHRASES } from './config.js';

/** A phrase and the pattern that finds it as whole words, case-insensitively. */
export interface PhraseMatcher {
  phrase: string;
  pattern: RegExp;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles the phrase list once (at init); inner white space matches any run of spaces. */
export function compilePhrases(config: SpamConfig): PhraseMatcher[] {
  const phrases = [...(config.builtinPhrases ? DEFAULT_PHRASES : []), ...config.extraPhrases];
  const unique = [...new Set(phrases.map((p) => p.toLowerCase()))];
  return unique.map((phrase) => {
    const body = phrase.split(/\s+/).map(escape).join('\\s+');
    // Letters/digits must not touch the phrase, so "act now" does not match "contact nowhere".
    return { phrase, pattern: new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, 'iu') };
  });
}

/** The distinct phrases found in the text, in list order. */
export function findPhrases(matchers: readonly PhraseMatcher[], text: string): string[] {
  return matchers.filter((m) => m.pattern.test(text)).map((m) => m.phrase);
}
