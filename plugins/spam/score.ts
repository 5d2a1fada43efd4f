import { TimeSlice, type PluginFinding } from '../../src/plugin-api.js';
import { ruleScore, type RuleName } from './config.js';
import { findPhrases, type PhraseMatcher } from './phrases.js';
import { phraseText, RULES, type RuleInput } from './rules.js';

/** One rule that fired and what it added. */
export interface RuleHit {
  name: RuleName;
  score: number;
}

export interface SpamResult {
  score: number;
  rules: RuleHit[];
  phrases: string[];
}

/**
 * Runs every enabled rule; scores are summed and rounded to hundredths. Between rules (and
 * inside the long ones) the event loop gets a turn once the slice's budget is spent.
 */
export async function evaluate(input: RuleInput, phrases: readonly PhraseMatcher[], slice = new TimeSlice()): Promise<SpamResult> {
  const disabled = new Set<RuleName>(input.config.disabled);
  const rules: RuleHit[] = [];
  for (const [name, check] of RULES) {
    if (disabled.has(name)) continue;
    if (slice.due) await slice.pause();
    // Most rules answer at once: only a promise is awaited, so a message costs no microtask per rule.
    const fired = check(input, slice);
    if (typeof fired === 'boolean' ? fired : await fired) rules.push({ name, score: ruleScore(input.config, name) });
  }
  let found: string[] = [];
  if (!disabled.has('SPAM_PHRASE')) {
    found = await findPhrases(phrases, phraseText(input), slice);
    const counted = Math.min(found.length, input.config.maxPhraseHits);
    if (counted > 0) {
      rules.push({ name: 'SPAM_PHRASE', score: counted * ruleScore(input.config, 'SPAM_PHRASE') });
    }
  }
  const total = rules.reduce((sum, hit) => sum + hit.score, 0);
  return { score: Math.round(total * 100) / 100, rules, phrases: found };
}

/** The finding the plugin reports: evidence only, the core scorer decides. */
export function toFinding(result: SpamResult): PluginFinding {
  const gtube = result.rules.some((r) => r.name === 'GTUBE');
  const reason = gtube
    ? 'GTUBE test string'
    : result.rules.length === 0
      ? 'no rules matched'
      : `matched ${result.rules.map((r) => r.name).join(', ')}`;
  const details: Record<string, unknown> = { rules: result.rules };
  if (result.phrases.length > 0) details.phrases = result.phrases;
  return { score: result.score, reason, details, ...(gtube ? { tags: ['gtube'] } : {}) };
}
