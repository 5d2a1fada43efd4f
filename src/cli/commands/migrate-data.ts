import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { HermodConfig } from '../../config/schema.js';
import { HermodError, InputError } from '../../errors.js';
import type { CopyCheckpoint } from '../../store/data-copier.js';
import type { MessageStore } from '../../store/message-store.js';
import { startByteProgress } from '../byte-progress.js';
import { withServices, type GlobalOptions } from '../context.js';
import { fileCheckpoint, type FileCheckpoint } from '../../admin/file-checkpoint.js';
import { print, printJson } from '../format.js';
import { parsePositiveInt } from '../validate.js';
import { InterruptedRunError } from './reindex.js';
import { printVerdict, rebuildSearch, verifyCopy, type MigrationVerdict } from './migrate-data-steps.js';

const DRIVERS = ['sqlite', 'cassandra'] as const;

interface MigrateOptions {
  from: (typeof DRIVERS)[number];
  to: (typeof DRIVERS)[number];
  configTo?: string;
  batchSize: number;
  restart?: boolean;
  json?: boolean;
  stopAfter?: number;
}

/** The copy does not match its source: `hermod migrate-data` exits 1 with this. */
export class MigrationMismatchError extends HermodError {
  constructor(message: string) {
    super('HERMOD_MIGRATION_MISMATCH', message);
  }
}

const MIGRATE_HELP = `
Copies an installation from one message store to another: domains, mailboxes (same ids, aliases,
quota, password), and every message with its folder, flags, tags, importance, spam score, ledger
and Hermod's added headers, under the same entry id and arrival time. Then it compares both
stores mailbox by mailbox (entry counts, bytes and a SHA-256 over every entry and its raw bytes),
and rebuilds the target's search index (e.g. Elasticsearch) from the copy.

The source is the store of the configuration (-c) with store.driver = --from. The target is
--config-to FILE, or else the same configuration with store.driver = --to and search.driver =
elasticsearch. Stop Hermod (or at least delivery) while it runs. Progress is saved under
<dataDir>/checkpoints/: an interrupted run continues when started again (--restart starts over).
Not copied: Bayes statistics (retrain with hermod spam train) and the outbox (the index is rebuilt).

Example:
  hermod migrate-data --from sqlite --to cassandra --config-to /etc/hermod/distributed.yaml`;

/** Registers `hermod migrate-data`. */
export function registerMigrateDataCommand(program: Command): void {
  program
    .command('migrate-data')
    .description('move an installation to another message store (e.g. SQLite → Cassandra), verify it, rebuild search')
    .addOption(new Option('--from <driver>', 'the store to read').choices(DRIVERS).makeOptionMandatory())
    .addOption(new Option('--to <driver>', 'the store to write').choices(DRIVERS).makeOptionMandatory())
    .option('--config-to <file>', 'configuration of the target (store and search)')
    .addOption(new Option('--batch-size <n>', 'entries per checkpointed batch').argParser(parsePositiveInt).default(200))
    .option('--restart', 'ignore a saved checkpoint and start from the beginning')
    .option('--json', 'print the verification as JSON')
    .addOption(new Option('--stop-after <n>').argParser(parsePositiveInt).hideHelp())
    .addHelpText('after', MIGRATE_HELP)
    .action(async (opts: MigrateOptions, cmd: Command) => {
      const { source, target } = configs(cmd, opts);
      await withServices(source, async (from) => {
        await withServices(target, async (to) => {
          const checkpoints = fileCheckpoint<CopyCheckpoint>(source.dataDir, `migrate-data-${opts.from}-to-${opts.to}`);
          if (opts.restart) checkpoints.clear();
          await copy(from.store, to.store, checkpoints, opts);
          const verdict = await verifyCopy(from.store, to.store);
          if (verdict.ok) verdict.reindexed = await rebuildSearch(to, source.dataDir, opts.restart === true);
          if (opts.json) printJson(verdict);
          else printVerdict(verdict);
          if (!verdict.ok) throw new MigrationMismatchError(mismatch(verdict));
          if (!opts.json) print(`search index (${target.search.driver}) rebuilt: ${verdict.reindexed} entries`);
          checkpoints.clear();
        });
      });
    });
}

/** Source and target configurations; refuses a copy onto itself. */
function configs(cmd: Command, opts: MigrateOptions): { source: HermodConfig; target: HermodConfig } {
  const file = cmd.optsWithGlobals<GlobalOptions>().config;
  const source = loadConfig({ file, overrides: { store: { driver: opts.from } } });
  const target = opts.configTo
    ? loadConfig({ file: opts.configTo })
    : loadConfig({ file, overrides: { store: { driver: opts.to }, search: { driver: 'elasticsearch' } } });
  if (target.store.driver !== opts.to) {
    throw new InputError(`--config-to ${opts.configTo}: store.driver is ${target.store.driver}, not ${opts.to} (--to)`);
  }
  if (opts.from === opts.to && !opts.configTo) {
    throw new InputError(`--from and --to are both ${opts.from}: name the target with --config-to FILE`);
  }
  return { source, target };
}

/** The copy itself, with a progress bar; throws when it stopped before the end. */
async function copy(
  source: MessageStore,
  target: MessageStore,
  checkpoints: FileCheckpoint<CopyCheckpoint>,
  opts: MigrateOptions,
): Promise<void> {
  const { DataCopier, copyStartingCheckpoint } = await import('../../store/data-copier.js');
  const scope = `${opts.from}->${opts.to}`;
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  const mailboxes = await source.listMailboxes();
  let total = 0;
  for (const mailbox of mailboxes) total += await source.mailboxUsage(mailbox.id);
  const done = Object.values(copyStartingCheckpoint(checkpoints, scope).mailboxes);
  const progress = startByteProgress('copy', total, {
    items: done.reduce((n, p) => n + p.entries, 0),
    bytes: done.reduce((n, p) => n + p.bytes, 0),
  });
  const copier = new DataCopier({
    source, target, checkpoints, batchSize: opts.batchSize, stopAfter: opts.stopAfter,
    shouldStop: () => interrupted,
    onBatch: (entries, bytes) => progress.add(entries, bytes),
  });
  process.on('SIGINT', onSigint);
  try {
    const result = await copier.run(scope);
    if (!result.completed) {
      throw new InterruptedRunError(
        `migrate-data stopped after copying ${result.entries} entries; progress saved in ${checkpoints.file}: run the same command again to resume`,
      );
    }
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
  }
}

function mismatch(verdict: MigrationVerdict): string {
  const bad = verdict.mailboxes.filter((m) => !m.ok).map((m) => m.address);
  return `migrate-data: the copy differs from the source in ${bad.length} mailbox(es): ${bad.join(', ')}`;
}
