import type { HookContext, PluginFinding, PluginManifest } from '../../src/plugin-api.js';
import { checkV2, type RspamdReply } from './client.js';
import { rspamdConfigSchema, type RspamdConfig } from './config.js';

export { rspamdConfigSchema, type RspamdConfig } from './config.js';

const round = (n: number): number => Math.round(n * 100) / 100;

/** rspamd's score times `weight`; every symbol, largest score first, kept for the ledger. */
export function toFinding(reply: RspamdReply, weight: number): PluginFinding {
  const symbols = Object.values(reply.symbols ?? {})
    .map((s) => ({ name: s.name, score: round(s.score) }))
    .sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || a.name.localeCompare(b.name));
  const score = round(reply.score * weight);
  const scored = symbols.filter((s) => s.score !== 0).map((s) => s.name);
  return {
    score,
    reason: `rspamd ${reply.action}, ${round(reply.score)}/${round(reply.required_score)}${scored.length ? `: ${scored.join(', ')}` : ''}`,
    details: {
      rspamd: {
        action: reply.action,
        score: round(reply.score),
        required: round(reply.required_score),
        weight,
        symbols,
        ...(reply.is_skipped ? { skipped: true } : {}),
      },
    },
  };
}

async function onMessage(ctx: HookContext<RspamdConfig>): Promise<void> {
  const { transaction: txn, session, config } = ctx;
  if (!txn.raw) return;
  if (txn.raw.length > config.maxBytes) {
    ctx.report({ score: 0, reason: `not scanned: ${txn.raw.length} bytes over maxBytes ${config.maxBytes}` });
    return;
  }
  const reply = await checkV2(
    txn.raw,
    { ip: session.clientAddress, helo: session.heloName, from: txn.mailFrom, rcpt: txn.recipients.map((r) => r.address), queueId: txn.id },
    config,
  );
  ctx.report(toFinding(reply, config.weight));
}

/**
 * Asks a running rspamd (HTTP /checkv2) at the message stage and reports its score (times
 * `weight`) and symbols. rspamd down: the hook throws, so 451 4.3.0, or no rspamd score when the
 * plugin entry is `failOpen: true`.
 */
const rspamd: PluginManifest<RspamdConfig> = {
  name: 'rspamd',
  description: 'Scores mail with a running rspamd (HTTP /checkv2): its score times a weight and its symbols; never decides.',
  configSchema: rspamdConfigSchema,
  hooks: { message: onMessage },
};

export default rspamd;
