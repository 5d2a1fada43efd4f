import type { Command } from 'commander';
import { loadCliConfig } from '../context.js';
import { print, printJson } from '../format.js';

/** Registers `hermod migrate`. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending schema migrations to the message store (creates the Cassandra keyspace when missing)')
    .option('--json', 'print JSON ({driver, target, applied, version, warnings}) instead of text')
    .addHelpText(
      'after',
      '\nSafe to run any number of times, also from several nodes at once: each migration is applied once.\n' +
        'With store.driver cassandra the keyspace is created with store.cassandra.replication; an existing\n' +
        'keyspace keeps its replication (a difference is reported). Hermod also migrates at start unless\n' +
        'store.cassandra.migrateOnStart is false; the SQLite store always migrates when opened.',
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = loadCliConfig(cmd);
      // Imported here so `--help` never loads the storage engines.
      const { migrateMessageStore } = await import('../../store/migrate-store.js');
      const summary = await migrateMessageStore(config);
      for (const warning of summary.warnings) process.stderr.write(`hermod: warning: ${warning}\n`);
      if (opts.json) return printJson(summary);
      print(`${summary.driver} ${summary.target}`);
      if (summary.createdKeyspace) print(`created keyspace with replication ${JSON.stringify(summary.createdKeyspace)}`);
      for (const m of summary.applied) print(`applied ${m.version}: ${m.name}`);
      print(`schema at version ${summary.version}${summary.applied.length === 0 ? ' (up to date)' : ''}`);
    });
}
