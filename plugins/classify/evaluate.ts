import type { AuthSummary, ParsedMessage, PluginFinding, RecipientState } from '../../src/plugin-api.js';
import { compileCondition, type Predicate } from './conditions.js';
import { ruleCondition, type ClassifyRule } from './config.js';

export const MIN_IMPORTANCE = -10;
export const MAX_IMPORTANCE = 10;

/** A rule ready to run: its condition compiled once at init. */
export interface CompiledRule {
  name: string;
  test: Predicate;
  tags: string[];
  folder?: string;
  importance: number;
}

export function compileRules(rules: readonly ClassifyRule[]): CompiledRule[] {
  return rules.map((rule) => ({
    name: rule.name,
    test: compileCondition(ruleCondition(rule)),
    tags: rule.tags,
    folder: rule.folder,
    importance: rule.importance,
  }));
}

/** Lower-case addresses (RCPT TO, mailbox address, aliases) of all recipients. */
export function recipientAddresses(recipients: readonly RecipientState[]): Set<string> {
  const out = new Set<string>();
  for (const r of recipients) {
    for (const a of [r.address, r.mailbox.address, ...r.mailbox.aliases]) out.add(a.toLowerCase());
  }
  return out;
}

export const clampImportance = (n: number): number =>
  Math.min(MAX_IMPORTANCE, Math.max(MIN_IMPORTANCE, n));

/** Envelope and authentication facts rules may test beside the message itself. */
export interface ClassifyContext {
  mailFrom?: string;
  auth?: AuthSummary;
}

/** Runs the rules in order: tags united, importance summed then clamped, last folder wins. */
export function classify(
  rules: readonly CompiledRule[],
  parsed: ParsedMessage,
  recipients: readonly RecipientState[],
  context: ClassifyContext = {},
): PluginFinding {
  const input = { parsed, recipients: recipientAddresses(recipients), ...context };
  const matched: string[] = [];
  const tags = new Set<string>();
  let folder: string | undefined;
  let importance = 0;
  for (const rule of rules) {
    if (!rule.test(input)) continue;
    matched.push(rule.name);
    rule.tags.forEach((t) => tags.add(t));
    if (rule.folder !== undefined) folder = rule.folder;
    importance += rule.importance;
  }
  return {
    tags: [...tags],
    ...(folder !== undefined ? { folder } : {}),
    importance: clampImportance(importance),
    reason: matched.length > 0 ? `matched ${matched.join(', ')}` : 'no rule matched',
    details: { matched },
  };
}
