import { z } from 'zod';
import type { ParsedMessage } from '../../src/pipeline/types.js';

/**
 * A header test. Without exists/equals/matches it means "the header is present". With several
 * keys all must hold; equals and matches hold when any value of the (repeated) header does.
 */
export interface HeaderCondition {
  /** Header name, any case. */
  header: string;
  exists?: boolean;
  /** Case-insensitive comparison with the trimmed raw value. */
  equals?: string;
  /** Case-insensitive JavaScript regex tested against the raw (unfolded) value. */
  matches?: string;
}

/** The condition language: leaves on headers and parsed fields, combined by all/any/not. */
export type Condition =
  | HeaderCondition
  /** Regex against the parsed From (`Name <addr>`). */
  | { from: string }
  /** Regex against the decoded Subject. */
  | { subject: string }
  /** A recipient mailbox (address or alias) is listed in To, Cc, or either. */
  | { recipientIn: 'to' | 'cc' | 'to-or-cc' }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

const headerCondition = z.strictObject({
  header: z.string().trim().min(1),
  exists: z.boolean().optional(),
  equals: z.string().optional(),
  matches: z.string().optional(),
});

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    headerCondition,
    z.strictObject({ from: z.string() }),
    z.strictObject({ subject: z.string() }),
    z.strictObject({ recipientIn: z.enum(['to', 'cc', 'to-or-cc']) }),
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
  ]),
);

/** Every regex source in a condition tree, so config validation can compile each one. */
export function regexSources(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(regexSources);
  if ('any' in condition) return condition.any.flatMap(regexSources);
  if ('not' in condition) return regexSources(condition.not);
  if ('from' in condition) return [condition.from];
  if ('subject' in condition) return [condition.subject];
  if ('header' in condition && condition.matches !== undefined) return [condition.matches];
  return [];
}

/** Compiles a rule regex: case-insensitive, JavaScript syntax. Throws on a bad pattern. */
export function compileRegex(source: string): RegExp {
  return new RegExp(source, 'i');
}

/** What a compiled condition reads. */
export interface ClassifyInput {
  parsed: ParsedMessage;
  /** Lower-case addresses and aliases of the transaction's recipient mailboxes. */
  recipients: ReadonlySet<string>;
}

export type Predicate = (input: ClassifyInput) => boolean;

/** The bare address of `addr` or `Name <addr>`, lower case. */
export function bareAddress(formatted: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(formatted);
  return (angle ? angle[1] : formatted).trim().toLowerCase();
}

function compileHeader(cond: HeaderCondition): Predicate {
  const name = cond.header.toLowerCase();
  const pattern = cond.matches === undefined ? undefined : compileRegex(cond.matches);
  const equals = cond.equals?.trim().toLowerCase();
  const exists = cond.exists ?? true;
  return ({ parsed }) => {
    const values = parsed.headers.get(name) ?? [];
    if (values.length === 0) return !exists;
    if (!exists) return false;
    if (equals !== undefined && !values.some((v) => v.trim().toLowerCase() === equals)) return false;
    if (pattern && !values.some((v) => pattern.test(v))) return false;
    return true;
  };
}

function compileRecipientIn(where: 'to' | 'cc' | 'to-or-cc'): Predicate {
  return ({ parsed, recipients }) => {
    const listed = [...(where === 'cc' ? [] : parsed.to), ...(where === 'to' ? [] : parsed.cc)];
    return listed.some((entry) => recipients.has(bareAddress(entry)));
  };
}

/** Turns a validated condition into a predicate; regexes are compiled once here. */
export function compileCondition(condition: Condition): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map(compileCondition);
    return (input) => parts.every((p) => p(input));
  }
  if ('any' in condition) {
    const parts = condition.any.map(compileCondition);
    return (input) => parts.some((p) => p(input));
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not);
    return (input) => !inner(input);
  }
  if ('from' in condition) {
    const pattern = compileRegex(condition.from);
    return ({ parsed }) => pattern.test(parsed.from);
  }
  if ('subject' in condition) {
    const pattern = compileRegex(condition.subject);
    return ({ parsed }) => pattern.test(parsed.subject);
  }
  if ('recipientIn' in condition) return compileRecipientIn(condition.recipientIn);
  return compileHeader(condition);
}
