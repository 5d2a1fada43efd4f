import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import type { HermodConfig } from '../../config/schema.js';
import { ConfigError, PluginError } from '../../errors.js';
import { loadCliConfig, type GlobalOptions } from '../context.js';
import { formatFields, formatSize, print } from '../format.js';

/** Registers `hermod config check`. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('work with the configuration file');

  config
    .command('check')
    .description('load and validate a configuration file and print a short summary of it')
    .argument('[file]', `file to check (default: --config, else ${DEFAULT_CONFIG_FILE} if present)`)
    .addHelpText(
      'after',
      '\nHERMOD_* environment overrides are applied as at start-up (HERMOD_LMTP__PORT=2424 sets lmtp.port).\n' +
        'On an error, prints one line naming the file and the key, and exits with status 2.',
    )
    .action(async (file: string | undefined, _opts: object, cmd: Command) => {
      const loaded = loadCliConfig(cmd, file);
      await checkPlugins(loaded, describeSource(cmd, file));
      print(`config OK: ${describeSource(cmd, file)}`);
      print(formatFields(summarize(loaded), '  '));
    });
}

/** Each plugin's own settings are checked against its manifest, as at start-up. */
async function checkPlugins(config: HermodConfig, source: string): Promise<void> {
  const { builtinPlugins } = await import('../../../plugins/index.js');
  const { validatePluginChain } = await import('../../pipeline/registry.js');
  try {
    validatePluginChain(config.plugins, builtinPlugins);
  } catch (err) {
    if (err instanceof PluginError) throw new ConfigError(`${source}: ${err.message}`);
    throw err;
  }
}

/** Which file was read, in words. */
function describeSource(cmd: Command, file: string | undefined): string {
  const named = file ?? cmd.optsWithGlobals<GlobalOptions>().config;
  if (named) return named;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : `built-in defaults (no ${DEFAULT_CONFIG_FILE})`;
}

/** A few lines an operator checks first: where it listens, where data goes, which plugins run. */
function summarize(c: HermodConfig): [string, string][] {
  const listener = (name: string, l: HermodConfig['lmtp']) =>
    `${name} ${l.enabled ? `${l.host}:${l.port}` : 'disabled'}`;
  return [
    ['hostname', c.hostname],
    ['listeners', [listener('lmtp', c.lmtp), listener('smtp', c.smtp)].join(', ')],
    ['tls', c.tls.key && c.tls.cert ? `STARTTLS (cert ${c.tls.cert})` : 'off (no key/cert)'],
    ['proxy', c.proxy.trusted.length ? `trusted ${c.proxy.trusted.join(', ')}` : 'off (no trusted CIDRs)'],
    ['xforward', c.xforward.trusted.length ? `trusted ${c.xforward.trusted.join(', ')}` : 'off (no trusted CIDRs)'],
    ['lookup', c.lookup.enabled ? `socketmap ${c.lookup.host}:${c.lookup.port} (maps domain, mailbox)` : 'off'],
    ['ops', c.ops.enabled ? `http://${c.ops.host}:${c.ops.port}/ (healthz, readyz, metrics)` : 'off'],
    ['data dir', c.dataDir],
    ['store', describeStore(c)],
    ['search', describeSearch(c)],
    ['quota', c.quota.defaultBytes === 0 ? 'unlimited' : `${formatSize(c.quota.defaultBytes)} per mailbox`],
    ['plugins', c.plugins.map((p) => p.name).join(', ') || '(none)'],
    ['scoring', `header ≥ ${c.scoring.addHeader}, junk ≥ ${c.scoring.junk}, reject ≥ ${c.scoring.reject}`],
  ];
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
