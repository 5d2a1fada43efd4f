import { authservIdOf, type HookContext, type ParsedMessage, type PluginManifest, type Transaction } from '../../src/plugin-api.js';
import { BUILTIN_RULES } from './builtins.js';
import { classifyConfigSchema, type ClassifyConfig } from './config.js';
import { classify as runRules, compileRules, type CompiledRule } from './evaluate.js';

export { classifyConfigSchema, type ClassifyConfig } from './config.js';
export type { Condition } from './conditions.js';

/** Built-in and operator rules, compiled once at start-up. */
export interface ClassifyState {
  rules: CompiledRule[];
  /** Hermod's host name: the default authserv-id of its own Authentication-Results. */
  hostname: string;
}

/**
 * The parsed message without Authentication-Results headers that claim our authserv-id (the
 * host name, or the one the auth plugin found claimed): only Hermod writes those, so on incoming
 * mail they are forged (RFC 8601 §5). Header conditions never see them; the `auth` condition
 * reads the auth plugin's own checks.
 */
function withoutOwnAuthResults(parsed: ParsedMessage, hostname: string, findings: Transaction['findings']): ParsedMessage {
  const values = parsed.headers.get('authentication-results');
  if (!values) return parsed;
  const forged = findings.find((f) => f.plugin === 'auth')?.finding.details?.forgedAuthResults;
  const claimed = new Set([hostname.toLowerCase(), ...(Array.isArray(forged) ? forged.map((v) => authservIdOf(String(v))) : [])]);
  const kept = values.filter((v) => !claimed.has(authservIdOf(v)));
  if (kept.length === values.length) return parsed;
  const headers = new Map(parsed.headers);
  if (kept.length > 0) headers.set('authentication-results', kept);
  else headers.delete('authentication-results');
  return { ...parsed, headers };
}

function onMessage(ctx: HookContext<ClassifyConfig, ClassifyState>): void {
  const parsed = ctx.transaction.parsed;
  if (!parsed) {
    ctx.report({ tags: [], importance: 0, reason: 'message not parsed; not classified', details: { matched: [] } });
    return;
  }
  const { recipients, mailFrom, auth, findings } = ctx.transaction;
  const trusted = withoutOwnAuthResults(parsed, ctx.state.hostname, findings);
  ctx.report(runRules(ctx.state.rules, trusted, recipients, { mailFrom, auth }));
}

/** Header-driven classification: tags, a suggested folder and importance. Never decides. */
const classify: PluginManifest<ClassifyConfig, ClassifyState> = {
  name: 'classify',
  description: 'Classifies mail from its headers into tags, a folder and importance (lists, bulk, notifications, personal).',
  after: ['parse'],
  configSchema: classifyConfigSchema,
  init: (config, deps) => ({
    rules: compileRules([...(config.builtins ? BUILTIN_RULES : []), ...config.rules]),
    hostname: deps.hostname,
  }),
  hooks: { message: onMessage },
};

export default classify;
