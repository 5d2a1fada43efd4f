import { resolve } from 'node:path';
import type { HookContext, PluginDeps, PluginManifest, Verdict } from '../../src/plugin-api.js';
import { NetworkList } from '../../src/plugin-api.js';
import { greylistConfigSchema, type GreylistConfig } from './config.js';
import { RedisGreylistStore } from './redis-store.js';
import { SqliteGreylistStore } from './sqlite-store.js';
import type { GreylistStore } from './store.js';
import { clientNetwork, decideTriplet, tripletKey } from './triplet.js';

export { greylistConfigSchema, type GreylistConfig } from './config.js';

export interface GreylistState {
  store: GreylistStore;
  allowClients: NetworkList;
  allowRecipients: Set<string>;
}

/** Opens the configured store; the embedded file lives under `dataDir`. */
export function openGreylistStore(config: GreylistConfig, dataDir: string | undefined): GreylistStore {
  if (config.store === 'redis') return new RedisGreylistStore(config.redis);
  return new SqliteGreylistStore(resolve(dataDir ?? '.', config.sqlite.file));
}

function init(config: GreylistConfig, deps: PluginDeps): GreylistState {
  return {
    store: openGreylistStore(config, deps.dataDir),
    allowClients: new NetworkList(config.allowClients, 'plugins.greylist.config.allowClients'),
    allowRecipients: new Set(config.allowRecipients),
  };
}

/** Why this recipient is not greylisted, or undefined when it is subject to it. */
function exemption(ctx: HookContext<GreylistConfig, GreylistState>): string | undefined {
  const { session, config, state, transaction } = ctx;
  if (state.allowClients.contains(session.clientAddress)) return `client ${session.clientAddress} allowed`;
  if (state.allowRecipients.has(ctx.recipient!.address.toLowerCase())) return 'recipient allowed';
  if (config.skipBelowScore !== null) {
    const score = transaction.findings.reduce((sum, { finding }) => sum + (finding.score ?? 0), 0);
    if (score < config.skipBelowScore) return `score ${score} below ${config.skipBelowScore}`;
  }
  return undefined;
}

async function onRcpt(ctx: HookContext<GreylistConfig, GreylistState>): Promise<Verdict | void> {
  const skip = exemption(ctx);
  if (skip) {
    ctx.report({ reason: `not greylisted: ${skip}`, details: { greylist: 'skipped' } });
    return;
  }
  const { config, state } = ctx;
  const key = tripletKey(clientNetwork(ctx.session.clientAddress, config), ctx.transaction.mailFrom, ctx.recipient!.address);
  const now = Date.now();
  const decision = decideTriplet(await state.store.get(key), now, config);
  if (decision.write) await state.store.put(key, decision.write.record, decision.write.expiresAt);
  ctx.report({ reason: `greylist ${decision.state}: ${key}`, details: { greylist: decision.state } });
  if (decision.state === 'new' || decision.state === 'early') {
    return {
      action: 'tempfail',
      code: 451,
      enhanced: '4.7.1',
      text: `Greylisted, please try again in ${decision.retryAfterSeconds} seconds`,
    };
  }
}

/**
 * Greylisting at the rcpt stage: the first attempt of a (client network, sender, recipient)
 * triplet gets 451 4.7.1; a retry after `delaySeconds` passes and the triplet is remembered.
 * A store failure throws: 451 4.3.0, or no greylisting when the plugin is failOpen.
 */
const greylist: PluginManifest<GreylistConfig, GreylistState> = {
  name: 'greylist',
  description: 'Greylisting of (client network, sender, recipient) triplets in SQLite or Redis; answers 451 4.7.1.',
  configSchema: greylistConfigSchema,
  init,
  hooks: { rcpt: onRcpt },
  close: (state) => state.store.close(),
};

export default greylist;
