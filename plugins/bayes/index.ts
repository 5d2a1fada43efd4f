import { PluginError } from '../../src/plugin-api.js';
import type { HookContext, PluginFinding, PluginManifest } from '../../src/plugin-api.js';
import type { BayesTokenStore } from '../../src/plugin-api.js';
import { BAYES_GLOBAL_SCOPE } from '../../src/plugin-api.js';
import { bandOf, chooseStats, classifyWith, scoreOf, type BayesResult, type Stats } from './classifier.js';
import { bayesConfigSchema, type BayesConfig } from './config.js';
import { loadTokenizer, tokenize } from './tokenizer.js';

export { bayesConfigSchema, type BayesConfig } from './config.js';
export { learnMessage, learnScopes, type Lesson } from './learn.js';
export { classifyTokens, type BayesResult, type BayesVerdict } from './classifier.js';
export { loadTokenizer, tokenize } from './tokenizer.js';

/** The plugin's state: the store that holds the token statistics. */
export interface BayesState {
  store: BayesTokenStore;
}

/** Clues listed in the ledger: enough to see why, few enough to read. */
const TOP_CLUES = 10;

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The finding for one classification: score by probability on the scale, the evidence in details. */
export function toFinding(result: BayesResult, config: BayesConfig): PluginFinding {
  const details: Record<string, unknown> = {
    verdict: result.verdict,
    ...(result.probability === null ? {} : { rule: bandOf(result.probability) }),
    probability: result.probability === null ? null : round(result.probability, 4),
    statistics: result.source,
    trained: result.trained,
    tokens: result.tokens,
    tokensUsed: result.clues.length,
    topTokens: result.clues.slice(0, TOP_CLUES).map((c) => [c.token, round(c.probability, 3)]),
  };
  const reason =
    result.verdict === 'untrained'
      ? `bayes untrained, contributes nothing (${result.trained.spam} spam / ${result.trained.ham} ham learned, need ${config.minTrained} each)`
      : `bayes ${result.verdict} p=${result.probability!.toFixed(3)} ${bandOf(result.probability!)} (${result.source}, ${result.clues.length} tokens)`;
  return { score: scoreOf(result.probability, config), reason, details };
}

/**
 * Classifies once per distinct set of statistics the recipients' mailboxes use. Findings are per
 * message, so when recipients' own statistics disagree the finding comes from the global ones,
 * and each mailbox's own result is listed in details.recipients.
 */
async function onMessage(ctx: HookContext<BayesConfig, BayesState>): Promise<void> {
  const { parsed, raw, recipients } = ctx.transaction;
  if (!parsed) {
    ctx.report({ score: 0, reason: 'message not parsed; bayes skipped', details: { verdict: 'untrained' } });
    return;
  }
  const { store } = ctx.state;
  await loadTokenizer();
  // Tokenized on first use: statistics that have not learned enough never read the tokens.
  let tokenList: Promise<string[]> | undefined;
  const tokens = (): Promise<string[]> => (tokenList ??= tokenize(parsed, raw, ctx.config.tokenizer));
  const byStats = new Map<string, { stats: Stats; addresses: string[] }>();
  for (const r of recipients.length > 0 ? recipients : [null]) {
    const stats = await chooseStats(store, r?.mailbox.id ?? null, ctx.config);
    const key = stats.scopes.join(' ');
    const group = byStats.get(key) ?? { stats, addresses: [] };
    if (r) group.addresses.push(r.address);
    byStats.set(key, group);
  }
  const results = new Map<string, BayesResult>();
  for (const [key, { stats }] of byStats) results.set(key, await classifyWith(store, tokens, stats, ctx.config));
  if (results.size === 1) {
    ctx.report(toFinding([...results.values()][0], ctx.config));
    return;
  }
  const globalStats = await chooseStats(store, null, ctx.config);
  const finding = toFinding(
    results.get(BAYES_GLOBAL_SCOPE) ?? (await classifyWith(store, tokens, globalStats, ctx.config)),
    ctx.config,
  );
  finding.details!.recipients = Object.fromEntries(
    [...byStats].flatMap(([key, { addresses }]) => {
      const r = results.get(key)!;
      const own = { verdict: r.verdict, probability: r.probability === null ? null : round(r.probability, 4), statistics: r.source };
      return addresses.map((address) => [address, own]);
    }),
  );
  ctx.report(finding);
}

/**
 * A learning Bayesian filter in the spirit of DSPAM: tokens from headers and body, Robinson's
 * f(w), Fisher's chi-square combining, an unsure band. Statistics live in the message store,
 * global and per mailbox; `hermod spam train` and `hermod message move` teach it.
 */
const bayes: PluginManifest<BayesConfig, BayesState> = {
  name: 'bayes',
  description: 'Learning Bayesian spam filter (Robinson/Fisher) with global and per-mailbox token statistics; reports a score, never decides.',
  after: ['parse'],
  configSchema: bayesConfigSchema,
  init: (_config, deps) => {
    if (!deps.store) throw new PluginError("plugin 'bayes': needs the message store (PluginDeps.store)");
    return { store: deps.store };
  },
  hooks: { message: onMessage },
};

export default bayes;
