import type { HookContext, PluginFinding, PluginManifest } from '../../src/plugin-api.js';
import { createDnsClient, NetworkList, type DnsClient, type DnsLookup } from '../../src/plugin-api.js';
import { dnsblConfigSchema, type DnsblConfig } from './config.js';
import { lookupZone, type ZoneResult } from './lookup.js';

export { dnsblConfigSchema, type DnsblConfig } from './config.js';

const CACHE_LIMIT = 10_000;

export interface DnsblState {
  lookup: DnsLookup;
  skip: NetworkList;
  /** Client address → answers and when they were fetched (ms). */
  cache: Map<string, { at: number; results: ZoneResult[] }>;
  dns?: DnsClient;
}

/** Builds the state; `lookup` replaces the configured resolver (tests). */
export function createDnsblState(config: DnsblConfig, lookup?: DnsLookup): DnsblState {
  const dns = lookup ? undefined : createDnsClient(config.dns, 'plugins.dnsbl.config.dns.servers');
  return { lookup: lookup ?? dns!.lookup, skip: new NetworkList(config.skipClients, 'plugins.dnsbl.config.skipClients'), cache: new Map(), dns };
}

async function resultsFor(address: string, config: DnsblConfig, state: DnsblState): Promise<ZoneResult[]> {
  const cached = state.cache.get(address);
  if (cached && Date.now() - cached.at < config.cacheSeconds * 1000) return cached.results;
  const results = await Promise.all(config.zones.map((zone) => lookupZone(state.lookup, address, zone)));
  // Failed lookups are not cached: the next transaction asks again.
  if (config.cacheSeconds > 0 && results.every((r) => !r.error)) {
    if (state.cache.size >= CACHE_LIMIT) state.cache.delete(state.cache.keys().next().value!);
    state.cache.set(address, { at: Date.now(), results });
  }
  return results;
}

/** Score = sum of the listed zones' weights; the ledger keeps every zone's answer. */
export function toFinding(address: string, results: ZoneResult[]): PluginFinding {
  const listed = results.filter((r) => r.hits.length > 0);
  const score = Math.round(listed.reduce((sum, r) => sum + r.hits[0].weight, 0) * 100) / 100;
  const reason = listed.length
    ? `${address} listed in ${listed.map((r) => `${r.zone} (${r.hits[0].answer})`).join(', ')}`
    : `${address} not listed`;
  const errors = results.filter((r) => r.error).map((r) => ({ zone: r.zone, error: r.error }));
  return {
    score,
    reason: errors.length ? `${reason}; lookup failed: ${errors.map((e) => e.zone).join(', ')}` : reason,
    details: {
      dnsbl: listed.map((r) => ({ zone: r.zone, answer: r.hits[0].answer, weight: r.hits[0].weight })),
      ...(errors.length ? { dnsblErrors: errors } : {}),
    },
  };
}

async function onMail(ctx: HookContext<DnsblConfig, DnsblState>): Promise<void> {
  const address = ctx.session.clientAddress;
  if (ctx.config.zones.length === 0) return;
  if (ctx.state.skip.contains(address)) {
    ctx.report({ score: 0, reason: `${address} not looked up (skipClients)`, details: { dnsbl: [] } });
    return;
  }
  ctx.report(toFinding(address, await resultsFor(address, ctx.config, ctx.state)));
}

/**
 * DNSBL and DNSWL lookups of the client address at the mail stage (so the score counts for the
 * transaction). Listed in a blocklist adds its weight, in an allowlist (negative weight) lowers
 * the score. Evidence only; a failed lookup is recorded and scores nothing.
 */
const dnsbl: PluginManifest<DnsblConfig, DnsblState> = {
  name: 'dnsbl',
  description: 'DNSBL/DNSWL lookups of the client address with weights from config; reports a score, never decides.',
  configSchema: dnsblConfigSchema,
  init: (config) => createDnsblState(config),
  hooks: { mail: onMail },
  close: (state) => state.dns?.close(),
};

export default dnsbl;
