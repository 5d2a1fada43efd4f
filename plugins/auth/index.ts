import type { HookContext, PluginDeps, PluginManifest } from '../../src/plugin-api.js';
import { createDnsClient, NetworkList, normalizeAddress, type DnsClient, type DnsLookup } from '../../src/plugin-api.js';
// The AuthSummary this plugin adds to the plugin API (declaration merging): importing it here
// puts it in every program that loads the plugin, not only in the whole-tree build.
import type {} from './auth-summary.js';
import { authConfigSchema, type AuthConfig } from './config.js';
import { forgedAuthResults } from './forged.js';
import { toFinding } from './score.js';
import { splitHeaders, summarize } from './summary.js';

export { authConfigSchema, type AuthConfig } from './config.js';

/** Built at start-up: the resolver, the relay list and the authserv-id. */
export interface AuthState {
  lookup: DnsLookup;
  relays: NetworkList;
  authservId: string;
  dns?: DnsClient;
}

type Mailauth = typeof import('mailauth');
let mailauth: Promise<Mailauth> | undefined;

/**
 * mailauth (with its certificate and BIMI libraries, tens of MiB) is imported when the plugin is
 * started, not when the built-in plugin list is: a chain without `auth` never loads it.
 */
function loadMailauth(): Promise<Mailauth> {
  return (mailauth ??= import('mailauth'));
}

/**
 * Builds the plugin state. `lookup` replaces the configured resolver (tests serve DNS answers
 * from a table this way); without it, lookups go to `config.dns`.
 */
export function createAuthState(config: AuthConfig, deps: Pick<PluginDeps, 'hostname'>, lookup?: DnsLookup): AuthState {
  const dns = lookup ? undefined : createDnsClient(config.dns, 'plugins.auth.config.dns.servers');
  return {
    lookup: lookup ?? dns!.lookup,
    relays: new NetworkList(config.relays, 'plugins.auth.config.relays'),
    authservId: config.authservId || deps.hostname,
    dns,
  };
}

/** The address SPF checks: IPv4-mapped IPv6 (dual-stack sockets) unwrapped to IPv4. */
function plainAddress(address: string): string {
  try {
    return normalizeAddress(address).toString();
  } catch {
    return address;
  }
}

async function onData(ctx: HookContext<AuthConfig, AuthState>): Promise<void> {
  const { transaction: txn, session, config, state } = ctx;
  if (!txn.raw) return;
  // Behind a relay that sends no PROXY header, the relay's own Received header names the client.
  const viaRelay = state.relays.contains(session.clientAddress);
  const { authenticate } = await loadMailauth();
  const result = await authenticate(txn.raw, {
    ip: viaRelay ? undefined : plainAddress(session.clientAddress),
    helo: viaRelay ? undefined : session.heloName || undefined,
    sender: txn.mailFrom,
    trustReceived: viaRelay,
    mta: state.authservId,
    resolver: state.lookup,
    minBitLength: config.minBitLength,
    disableBimi: true,
  });
  const summary = summarize(result);
  txn.auth = summary;
  if (config.addHeaders) txn.addedHeaders.push(...splitHeaders(result.headers));
  ctx.report(toFinding(summary, config, forgedAuthResults(txn.raw, state.authservId)));
}

/**
 * SPF, DKIM, DMARC (with alignment) and ARC through mailauth, at the data stage. Adds an
 * Authentication-Results header, leaves the results on the transaction (`transaction.auth`) for
 * classification, and reports a score per outcome; the core scorer decides.
 */
const auth: PluginManifest<AuthConfig, AuthState> = {
  name: 'auth',
  description: 'SPF, DKIM, DMARC and ARC checks (mailauth): Authentication-Results header, results on the transaction, a score.',
  configSchema: authConfigSchema,
  init: async (config, deps) => {
    await loadMailauth();
    return createAuthState(config, deps);
  },
  hooks: { data: onData },
  close: (state) => state.dns?.close(),
};

export default auth;
