import type { HookContext, PluginFinding, PluginManifest } from '../../src/plugin-api.js';
import { spamassassinConfigSchema, type SpamassassinConfig } from './config.js';
import { checkWithSpamd, type SpamdResult } from './spamd-client.js';

export { spamassassinConfigSchema, type SpamassassinConfig } from './config.js';

const round = (n: number): number => Math.round(n * 100) / 100;

/** SpamAssassin's score times `weight`, and the rules that hit (with scores from REPORT). */
export function toFinding(result: SpamdResult, weight: number): PluginFinding {
  const names = result.rules.map((r) => r.name);
  return {
    score: round(result.score * weight),
    reason: `spamassassin ${result.spam ? 'spam' : 'ham'}, ${result.score}/${result.required}${names.length ? `: ${names.join(', ')}` : ''}`,
    details: { spamassassin: { spam: result.spam, score: result.score, required: result.required, weight, rules: result.rules } },
  };
}

async function onMessage(ctx: HookContext<SpamassassinConfig>): Promise<void> {
  const { raw } = ctx.transaction;
  if (!raw) return;
  if (raw.length > ctx.config.maxBytes) {
    ctx.report({ score: 0, reason: `not scanned: ${raw.length} bytes over maxBytes ${ctx.config.maxBytes}` });
    return;
  }
  ctx.report(toFinding(await checkWithSpamd(raw, ctx.config), ctx.config.weight));
}

/**
 * Asks a running spamd (SPAMC/1.5 over TCP, REPORT or SYMBOLS) at the message stage and reports
 * its score (times `weight`) and rule names. spamd down: the hook throws, so 451 4.3.0, or no
 * SpamAssassin score when the plugin entry is `failOpen: true`.
 */
const spamassassin: PluginManifest<SpamassassinConfig> = {
  name: 'spamassassin',
  description: 'Scores mail with a running SpamAssassin spamd (SPAMC/1.5): its score times a weight and its rules; never decides.',
  configSchema: spamassassinConfigSchema,
  hooks: { message: onMessage },
};

export default spamassassin;
