import { loadAddressParser, TimeSlice, type HookContext, type PluginManifest } from '../../src/plugin-api.js';
import { spamConfigSchema, type SpamConfig } from './config.js';
import { gatherEvidence } from './evidence.js';
import { compilePhrases, type PhraseMatcher } from './phrases.js';
import { evaluate, toFinding } from './score.js';

export { spamConfigSchema, type SpamConfig } from './config.js';

/** Compiled once at start-up. */
export interface SpamState {
  phrases: PhraseMatcher[];
}

async function onMessage(ctx: HookContext<SpamConfig, SpamState>): Promise<void> {
  const { parsed, raw } = ctx.transaction;
  if (!parsed || !raw) {
    ctx.report({ score: 0, reason: 'message not parsed; spam rules skipped', details: { rules: [] } });
    return;
  }
  await loadAddressParser();
  const now = new Date();
  const slice = new TimeSlice();
  const evidence = await gatherEvidence(parsed, ctx.config, now, slice);
  const result = await evaluate({ parsed, raw, config: ctx.config, now, evidence }, ctx.state.phrases, slice);
  ctx.report(toFinding(result));
}

/**
 * Baseline spam scorer: GTUBE and header/body heuristics. It only reports a score with the rules
 * that fired; the core scorer turns the total into headers, Junk or a reject.
 */
const spam: PluginManifest<SpamConfig, SpamState> = {
  name: 'spam',
  description: 'Baseline spam scorer: GTUBE, header heuristics and spammy phrases; reports a score, never decides.',
  after: ['parse'],
  configSchema: spamConfigSchema,
  init: (config) => ({ phrases: compilePhrases(config) }),
  hooks: { message: onMessage },
};

export default spam;
