import type { AuthSummary, PluginFinding } from '../../src/plugin-api.js';
import { authScore, type AuthConfig, type AuthRule } from './config.js';
import { describe } from './summary.js';

const SPF_RULES: Partial<Record<AuthSummary['spf']['result'], AuthRule>> = {
  pass: 'SPF_PASS',
  fail: 'SPF_FAIL',
  softfail: 'SPF_SOFTFAIL',
  neutral: 'SPF_NEUTRAL',
  none: 'SPF_NONE',
  permerror: 'SPF_PERMERROR',
};

const DMARC_FAIL_RULES: Record<AuthSummary['dmarc']['policy'], AuthRule> = {
  none: 'DMARC_FAIL_NONE',
  quarantine: 'DMARC_FAIL_QUARANTINE',
  reject: 'DMARC_FAIL_REJECT',
};

/** A DMARC failure is forgiven when a trusted intermediary's ARC chain vouches for the message. */
function arcOverrides(summary: AuthSummary, trusted: readonly string[]): boolean {
  return summary.arc.result === 'pass' && summary.arc.sealer !== undefined && trusted.includes(summary.arc.sealer);
}

/** The outcomes that hold for this summary. Temporary errors score nothing (they prove nothing). */
export function firedRules(summary: AuthSummary, config: AuthConfig): AuthRule[] {
  const rules: AuthRule[] = [];
  const spf = SPF_RULES[summary.spf.result];
  if (spf) rules.push(spf);
  if (summary.dkim.some((d) => d.result === 'pass' && d.aligned)) rules.push('DKIM_PASS_ALIGNED');
  else if (summary.dkim.some((d) => d.result === 'fail' || d.result === 'neutral' || d.result === 'permerror')) {
    if (!summary.dkim.some((d) => d.result === 'pass')) rules.push('DKIM_FAIL');
  }
  if (summary.dmarc.result === 'pass') rules.push('DMARC_PASS');
  if (summary.dmarc.result === 'fail') {
    rules.push(arcOverrides(summary, config.arc.trustedSealers) ? 'DMARC_ARC_OVERRIDE' : DMARC_FAIL_RULES[summary.dmarc.policy]);
  }
  if (summary.arc.result === 'fail') rules.push('ARC_FAIL');
  return rules;
}

/**
 * Evidence only: the score of the outcomes, and the summary for the ledger. `forged` are incoming
 * Authentication-Results headers claiming our authserv-id: listed, scored, never believed.
 */
export function toFinding(summary: AuthSummary, config: AuthConfig, forged: readonly string[] = []): PluginFinding {
  const names = firedRules(summary, config);
  if (forged.length > 0) names.push('AUTH_RESULTS_FORGED');
  const rules = names.map((name) => ({ name, score: authScore(config, name) }));
  const score = Math.round(rules.reduce((sum, r) => sum + r.score, 0) * 100) / 100;
  const details: Record<string, unknown> = { auth: summary, rules };
  if (forged.length > 0) details.forgedAuthResults = forged;
  const note = forged.length > 0 ? `; ${forged.length} forged Authentication-Results claiming our authserv-id ignored` : '';
  return { score, reason: `${describe(summary)}${note}`, details };
}
