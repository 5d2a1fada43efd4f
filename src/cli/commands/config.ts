import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigProblemsError } from '../../config/config-source.js';
import { DEFAULT_CONFIG_FILE, type LoadedConfig } from '../../config/load.js';
import type { HermodConfig } from '../../config/schema.js';
import { effectiveSettings } from '../../config/show-settings.js';
import { PluginError } from '../../errors.js';
import { loadCliConfigWithSource, type GlobalOptions } from '../context.js';
import { formatFields, formatSize, print, printJson } from '../format.js';

/** Registers `hermod config check | show`. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check the configuration, or print the settings in effect');

  config
    .command('check')
    .description('validate a configuration exactly as `serve` does at start-up and print a short summary of it')
    .argument('[file]', `file to check (default: --config, else ${DEFAULT_CONFIG_FILE} if present)`)
    .addHelpText(
      'after',
      '\nChecks every key against the schema (unknown keys get a "did you mean"), then what `serve`\n' +
        'checks before it starts: addresses and CIDRs, files it must read (tls.key, tls.cert,\n' +
        'delivery.caFile), a writable dataDir, two listeners on one port, the order\n' +
        'addHeader ≤ junk ≤ tempfail ≤ reject, and each plugin\'s settings. HERMOD_* environment\n' +
        'overrides are applied as at start-up.\n' +
        'Every problem is one line on stderr, "FILE:LINE: KEY: what is wrong" (or "HERMOD_X (KEY): …"\n' +
        'when a variable set it); the exit status is then 2.',
    )
    .action(async (file: string | undefined, _opts: object, cmd: Command) => {
      const loaded = loadCliConfigWithSource(cmd, file, true);
      await checkPlugins(loaded);
      print(`config OK: ${describeSource(cmd, file)}`);
      print(formatFields(summarize(loaded), '  '));
    });

  config
    .command('show')
    .description('print the settings in effect after HERMOD_* overrides, secrets masked (like postconf -n)')
    .argument('[file]', `file to read (default: --config, else ${DEFAULT_CONFIG_FILE} if present)`)
    .option('-a, --all', 'print every key, defaults included (like postconf without -n)')
    .option('--json', 'print JSON ([{key, value, env?}])')
    .addHelpText(
      'after',
      '\nWithout --all, prints the keys whose value differs from the built-in default, and the\n' +
        'paths (dataDir, tls.*, delivery.caFile) as resolved. A key set by an environment variable\n' +
        'is followed by "# HERMOD_…". Passwords and credentials in URLs print as ********.',
    )
    .action((file: string | undefined, opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const loaded = loadCliConfigWithSource(cmd, file);
      const settings = effectiveSettings(loaded.config, loaded.source, { all: opts.all });
      if (opts.json) return printJson(settings);
      for (const s of settings) print(`${s.key} = ${s.value}${s.env ? `  # ${s.env}` : ''}`);
    });
}

/** Each plugin's settings against its manifest, as the registry checks them at start-up. */
async function checkPlugins(loaded: LoadedConfig): Promise<void> {
  const problems: string[] = [];
  const { builtinPlugins } = await import('../../../plugins/index.js');
  const { validatePluginChain } = await import('../../pipeline/registry.js');
  try {
    validatePluginChain(loaded.config.plugins, builtinPlugins);
  } catch (err) {
    if (!(err instanceof PluginError)) throw err;
    problems.push(`${loaded.source.file ?? 'configuration'}: ${err.message}`);
  }
  if (problems.length > 0) throw new ConfigProblemsError(problems);
}

/** Which file was read, in words. */
function describeSource(cmd: Command, file: string | undefined): string {
  const named = file ?? cmd.optsWithGlobals<GlobalOptions>().config;
  if (named) return named;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : `built-in defaults (no ${DEFAULT_CONFIG_FILE})`;
}

/** A few lines an operator checks first: where it listens, where data goes, what runs. */
function summarize({ config: c, source }: LoadedConfig): [string, string][] {
  const listener = (name: string, l: HermodConfig['lmtp']) =>
    `${name} ${l.enabled ? `${l.host}:${l.port}` : 'disabled'}`;
  const env = [...source.envSources.values()];
  return [
    ['hostname', c.hostname],
    ['listeners', [listener('lmtp', c.lmtp), listener('smtp', c.smtp)].join(', ')],
    ['submission', describeSubmission(c)],
    ['tls', c.tls.key && c.tls.cert ? `STARTTLS (cert ${c.tls.cert})` : 'off (no key/cert)'],
    ['proxy', c.proxy.trusted.length ? `trusted ${c.proxy.trusted.join(', ')}` : 'off (no trusted CIDRs)'],
    ['xforward', c.xforward.trusted.length ? `trusted ${c.xforward.trusted.join(', ')}` : 'off (no trusted CIDRs)'],
    ['lookup', c.lookup.enabled ? `socketmap ${c.lookup.host}:${c.lookup.port} (maps domain, mailbox)` : 'off'],
    ['ops', c.ops.enabled ? `http://${c.ops.host}:${c.ops.port}/ (healthz, readyz, metrics)` : 'off'],
    ['data dir', c.dataDir],
    ['store', describeStore(c)],
    ['search', describeSearch(c)],
    ['queue', describeQueue(c)],
    ['relay', c.relay.host ? `smarthost ${c.relay.host}:${c.relay.port}${c.relay.auth ? ' (AUTH)' : ''}` : describeDirect(c)],
    ['dkim', c.dkim.enabled ? `signing with keys in ${join(c.dataDir, c.dkim.keyDir)}` : 'off'],
    ['quota', c.quota.defaultBytes === 0 ? 'unlimited' : `${formatSize(c.quota.defaultBytes)} per mailbox`],
    ['plugins', c.plugins.map((p) => p.name).join(', ') || '(none)'],
    ['scoring', describeScoring(c)],
    ['environment', env.length ? env.join(', ') : '(no HERMOD_* overrides)'],
  ];
}

/** Direct MX delivery and the transport security policies it honours. */
function describeDirect(c: HermodConfig): string {
  const d = c.delivery;
  const policies = [d.mtaSts.enabled ? 'MTA-STS' : '', d.dane ? 'DANE' : ''].filter(Boolean);
  return `direct to MX${policies.length ? ` (${policies.join(', ')})` : ' (opportunistic TLS only)'}`;
}

function describeSubmission(c: HermodConfig): string {
  const s = c.submission;
  if (!s.enabled) return 'off';
  return `${s.host}:${s.port}${s.implicitTlsPort !== null ? `, implicit TLS on ${s.implicitTlsPort}` : ''}`;
}

function describeScoring(c: HermodConfig): string {
  const s = c.scoring;
  const tempfail = s.tempfail !== null ? `, tempfail ≥ ${s.tempfail}` : '';
  return `header ≥ ${s.addHeader}, junk ≥ ${s.junk}${tempfail}, reject ≥ ${s.reject}`;
}

/** The outbound queue in one line; a password in the Redis URL is never shown. */
function describeQueue(c: HermodConfig): string {
  if (c.queue.driver === 'sqlite') return `sqlite ${join(c.dataDir, c.queue.sqlite.file)}, ${c.queue.workers} workers`;
  const url = c.queue.bullmq.url.replace(/\/\/[^/@\s]+@/, '//***@');
  return `bullmq ${url} (prefix ${c.queue.bullmq.prefix}), ${c.queue.workers} workers`;
}

/** Where the messages live: the SQLite file, or the Cassandra keyspace and how it is reached. */
function describeStore(c: HermodConfig): string {
  if (c.store.driver !== 'cassandra') return `sqlite ${join(c.dataDir, c.store.sqlite.file)}`;
  const k = c.store.cassandra;
  return `cassandra keyspace ${k.keyspace} on ${k.contactPoints.join(', ')} (${k.localDataCenter}, ${k.consistency})`;
}

/** The search engine in one line; credentials in a node URL are never shown. */
function describeSearch(c: HermodConfig): string {
  if (c.search.driver !== 'elasticsearch') return `${c.search.driver} ${join(c.dataDir, c.search.sqlite.file)}`;
  const es = c.search.elasticsearch;
  const nodes = es.nodes.map((url) => url.replace(/\/\/[^/@\s]+@/, '//***@')).join(', ');
  return `elasticsearch ${nodes} (alias ${es.indexPrefix}-messages)`;
}
