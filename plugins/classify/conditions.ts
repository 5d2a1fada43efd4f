import { RE2JS } from 're2js';
import { z } from 'zod';
import type { AuthResult, AuthSummary, ParsedMessage } from '../../src/plugin-api.js';

const AUTH_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy'] as const;

/**
 * A test of the `auth` plugin's results: every key given must hold; a list means "any of these".
 * `dkim` is the message's DKIM result: pass when a signature passes, else fail when one failed,
 * else the first signature's result, else none. Without the auth plugin every result is `none`.
 */
export interface AuthCondition {
  spf?: AuthResult | AuthResult[];
  dkim?: AuthResult | AuthResult[];
  dmarc?: AuthResult | AuthResult[];
  arc?: AuthResult | AuthResult[];
  /** A DKIM signature that passes and aligns with the From domain. */
  dkimAligned?: boolean;
}

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
  /** Regex against the envelope sender (MAIL FROM; empty for the null sender). */
  | { sender: string }
  /** Regex against the decoded body text (first 100,000 characters). */
  | { body: string }
  /** SPF / DKIM / DMARC / ARC results of the auth plugin. */
  | { auth: AuthCondition }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

const headerCondition = z.strictObject({
  header: z.string().trim().min(1),
  exists: z.boolean().optional(),
  equals: z.string().optional(),
  matches: z.string().optional(),
});

const authResult = z.enum(AUTH_RESULTS);
const authResults = z.union([authResult, z.array(authResult).min(1)]);

const authConditionSchema = z
  .strictObject({
    spf: authResults.optional(),
    dkim: authResults.optional(),
    dmarc: authResults.optional(),
    arc: authResults.optional(),
    dkimAligned: z.boolean().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'an auth condition needs at least one of spf, dkim, dmarc, arc, dkimAligned' });

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    headerCondition,
    z.strictObject({ from: z.string() }),
    z.strictObject({ subject: z.string() }),
    z.strictObject({ recipientIn: z.enum(['to', 'cc', 'to-or-cc']) }),
    z.strictObject({ sender: z.string() }),
    z.strictObject({ body: z.string() }),
    z.strictObject({ auth: authConditionSchema }),
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
  if ('sender' in condition) return [condition.sender];
  if ('body' in condition) return [condition.body];
  if ('header' in condition && condition.matches !== undefined) return [condition.matches];
  return [];
}

/** A compiled rule pattern: does it match anywhere in the text. */
export interface RulePattern {
  test(text: string): boolean;
}

/**
 * Compiles a rule regex, case-insensitive, with RE2 syntax on a linear-time engine (re2js).
 *
 * Rule patterns are written by operators but run on senders' text: on JavaScript's backtracking
 * engine a pattern such as `(a+)+$` or `.*x.*y` takes exponential or quadratic time on a crafted
 * subject or body, and the synchronous match blocks every connection (a plugin timeout cannot
 * interrupt it). RE2 guarantees time linear in the text; what it cannot run in linear time
 * (backreferences, lookaround) it refuses, so such a pattern fails config check, naming the rule.
 * Throws on a bad or unsupported pattern.
 */
export function compileRegex(source: string): RulePattern {
  const pattern = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  return { test: (text) => pattern.test(text) };
}

/** What a compiled condition reads. */
export interface ClassifyInput {
  parsed: ParsedMessage;
  /** Lower-case addresses and aliases of the transaction's recipient mailboxes. */
  recipients: ReadonlySet<string>;
  /** The envelope sender (MAIL FROM). @defaultValue "" */
  mailFrom?: string;
  /** The auth plugin's results, when it ran. */
  auth?: AuthSummary;
}

const BODY_SCAN_CHARS = 100_000;

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
  if ('sender' in condition) {
    const pattern = compileRegex(condition.sender);
    return ({ mailFrom }) => pattern.test(mailFrom ?? '');
  }
  if ('body' in condition) {
    const pattern = compileRegex(condition.body);
    return ({ parsed }) => pattern.test(parsed.text.slice(0, BODY_SCAN_CHARS));
  }
  if ('auth' in condition) return compileAuth(condition.auth);
  return compileHeader(condition);
}

/** The message's DKIM result from its signatures (see AuthCondition). */
export function dkimResult(auth: AuthSummary | undefined): AuthResult {
  const results = (auth?.dkim ?? []).map((d) => d.result);
  if (results.includes('pass')) return 'pass';
  if (results.includes('fail')) return 'fail';
  return results[0] ?? 'none';
}

function compileAuth(cond: AuthCondition): Predicate {
  const wanted = (v: AuthResult | AuthResult[] | undefined): AuthResult[] | undefined =>
    v === undefined ? undefined : Array.isArray(v) ? v : [v];
  const checks: [AuthResult[] | undefined, (a: AuthSummary | undefined) => AuthResult][] = [
    [wanted(cond.spf), (a) => a?.spf.result ?? 'none'],
    [wanted(cond.dkim), dkimResult],
    [wanted(cond.dmarc), (a) => a?.dmarc.result ?? 'none'],
    [wanted(cond.arc), (a) => a?.arc.result ?? 'none'],
  ];
  return ({ auth }) => {
    if (cond.dkimAligned !== undefined) {
      const aligned = (auth?.dkim ?? []).some((d) => d.result === 'pass' && d.aligned);
      if (aligned !== cond.dkimAligned) return false;
    }
    return checks.every(([values, get]) => values === undefined || values.includes(get(auth)));
  };
}
