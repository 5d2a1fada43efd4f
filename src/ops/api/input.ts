import { z } from 'zod';
import { addressProblem, domainProblem } from '../../admin/input-rules.js';
import { badInput } from './api-error.js';

/**
 * Validates request input with a zod schema; the first problem becomes a 400 naming its field
 * (`limit`, `status`, `ids.2`), like the CLI names its flag.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.map(String).join('.') || 'body';
  throw badInput(field, issue.message);
}

/** A mailbox address (lower-cased), checked as the CLI checks it. */
export const address = z
  .string()
  .max(320)
  .superRefine((value, ctx) => {
    const problem = addressProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${value}" ${problem}` });
  })
  .transform((v) => v.toLowerCase());

/** A domain name (lower-cased), checked as the CLI checks it. */
export const domain = z
  .string()
  .max(253)
  .superRefine((value, ctx) => {
    const problem = domainProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${value}" ${problem}` });
  })
  .transform((v) => v.toLowerCase());

/** Most entries one listing or search answers with: a request's memory stays bounded. */
export const MAX_LIMIT = 10_000;

/** A page size given as a query string: 1 … MAX_LIMIT. */
export const positiveInt = z
  .string()
  .regex(/^\d{1,9}$/, 'expected a whole number of 1 or more')
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_LIMIT, `expected a whole number from 1 to ${MAX_LIMIT}`);

/** An id as the CLI prints them (entry ULIDs, job ids MESSAGE.N): bounded, printable, no spaces. */
export const id = z.string().min(1).max(200).regex(/^[A-Za-z0-9._-]+$/, 'expected an id such as 01J9Z3K4QY3V6S8T2W1X0Y9Z8A');

/** A folder name: non-empty, no control characters. */
export const folder = z
  .string()
  .max(255)
  .transform((v) => v.trim())
  // eslint-disable-next-line no-control-regex
  .refine((v) => v !== '' && !/[\u0000-\u001f\u007f]/.test(v), 'give a folder name such as INBOX or Junk');
