import type { TimeSlice } from '../../src/plugin-api.js';
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

/** The distinct phrases found in the text, in list order; each is one pass over the text, so the loop may get a turn between them. */
export async function findPhrases(matchers: readonly PhraseMatcher[], text: string, slice: TimeSlice): Promise<string[]> {
  const found: string[] = [];
  for (const m of matchers) {
    if (slice.due) await slice.pause();
    if (m.pattern.test(text)) found.push(m.phrase);
  }
  return found;
}
