import type { HookContext, PluginManifest } from '../../src/plugin-api.js';
import { BUILTIN_RULES } from './builtins.js';
import { classifyConfigSchema, type ClassifyConfig } from './config.js';
import { classify as runRules, compileRules, type CompiledRule } from './evaluate.js';

export { classifyConfigSchema, type ClassifyConfig } from './config.js';
export type { Condition } from './conditions.js';

/** Built-in and operator rules, compiled once at start-up. */
export interface ClassifyState {
  rules: CompiledRule[];
}

function onMessage(ctx: HookContext<ClassifyConfig, ClassifyState>): void {
  const parsed = ctx.transaction.parsed;
  if (!parsed) {
    ctx.report({ tags: [], importance: 0, reason: 'message not parsed; not classified', details: { matched: [] } });
    return;
  }
  const { recipients, mailFrom, auth } = ctx.transaction;
  ctx.report(runRules(ctx.state.rules, parsed, recipients, { mailFrom, auth }));
}

/** Header-driven classification: tags, a suggested folder and importance. Never decides. */
const classify: PluginManifest<ClassifyConfig, ClassifyState> = {
  name: 'classify',
  description: 'Classifies mail from its headers into tags, a folder and importance (lists, bulk, notifications, personal).',
  after: ['parse'],
  configSchema: classifyConfigSchema,
  init: (config) => ({
    rules: compileRules([...(config.builtins ? BUILTIN_RULES : []), ...config.rules]),
  }),
  hooks: { message: onMessage },
};

export default classify;
