import { z } from 'zod';
import { compileRegex, conditionSchema, regexSources, type Condition } from './conditions.js';

const ruleSchema = z
  .strictObject({
    /** Shown in the finding's `matched` list and in errors. */
    name: z.string().trim().min(1),
    /** The condition; or give `all` / `any` directly as a shorthand. */
    if: conditionSchema.optional(),
    all: z.array(conditionSchema).min(1).optional(),
    any: z.array(conditionSchema).min(1).optional(),
    /** Tags added when the rule matches. @defaultValue [] */
    tags: z.array(z.string().trim().min(1)).default([]),
    /** Folder suggested when the rule matches; the last matching rule with a folder wins. */
    folder: z.string().trim().min(1).optional(),
    /** Importance added when the rule matches. @defaultValue 0 */
    importance: z.number().min(-10).max(10).default(0),
  })
  .superRefine((rule, ctx) => {
    const given = [rule.if, rule.all, rule.any].filter((c) => c !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `classify rule "${rule.name}": give exactly one of "if", "all" or "any"`,
      });
    }
    for (const source of regexSources(ruleCondition(rule))) {
      try {
        compileRegex(source);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        ctx.addIssue({ code: 'custom', message: `classify rule "${rule.name}": bad regex /${source}/: ${why}` });
      }
    }
  });

export type ClassifyRule = z.infer<typeof ruleSchema>;

/** The one condition of a rule, whichever form it was written in. */
export function ruleCondition(rule: Pick<ClassifyRule, 'if' | 'all' | 'any'>): Condition {
  if (rule.all) return { all: rule.all };
  if (rule.any) return { any: rule.any };
  return rule.if ?? { all: [] };
}

export const classifyConfigSchema = z.strictObject({
  /** Run the built-in rules (list, bulk, notification, personal, high-priority). @defaultValue true */
  builtins: z.boolean().default(true),
  /** Operator rules, run after the built-ins, in order. @defaultValue [] */
  rules: z
    .array(ruleSchema)
    .default([])
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      for (const rule of rules) {
        if (seen.has(rule.name)) {
          ctx.addIssue({ code: 'custom', message: `classify rule "${rule.name}" is defined twice` });
        }
        seen.add(rule.name);
      }
    }),
});

export type ClassifyConfig = z.infer<typeof classifyConfigSchema>;
