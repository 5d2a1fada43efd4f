import { Option, type Command } from 'commander';
import { HermodError, InputError } from '../../errors.js';
import type { ReindexCheckpoint, ReindexResult } from '../../search/reindexer.js';
import type { HermodServices } from '../../services.js';
import type { Mailbox } from '../../store/types.js';
import { startByteProgress } from '../byte-progress.js';
import { loadCliConfig, withServices } from '../context.js';
import { fileCheckpoint } from '../../admin/file-checkpoint.js';
import { print, printJson } from '../format.js';
import { parsePositiveInt } from '../validate.js';
import { checkAddress } from '../../admin/input-rules.js';
import { selectMailboxes } from './index-verify.js';

interface ReindexOptions {
  mailbox?: string;
  all?: boolean;
  batchSize: number;
  restart?: boolean;
  json?: boolean;
  stopAfter?: number;
}

/** A long admin run (reindex, data migration) stopped before the end (Ctrl-C, --stop-after); its checkpoint is kept. */
export class InterruptedRunError extends HermodError {
  constructor(message: string) {
    super('HERMOD_INTERRUPTED', message);
  }
}

const REINDEX_HELP = `
Reads every entry of the mailbox(es) from the store and writes it to the search index with a
fresh version, then removes documents whose entry is gone (--all: also whole mailboxes the store
no longer has). Delivery and the indexer keep running meanwhile; a change made during the run
still wins over the rebuilt document.

Progress is saved after every batch under <dataDir>/checkpoints/. An interrupted run (Ctrl-C, a
crash) continues where it stopped when the same command is run again; --restart starts over.

Examples:
  hermod reindex --mailbox alice@example.org
  hermod reindex --all`;

/** Registers `hermod reindex`. */
export function registerReindexCommand(program: Command): void {
  program
    .command('reindex')
    .description('rebuild the search index from the message store, with a progress bar; resumable')
    .option('--mailbox <address>', 'rebuild this mailbox')
    .option('--all', 'rebuild every mailbox')
    .addOption(new Option('--batch-size <n>', 'entries per index write').argParser(parsePositiveInt).default(200))
    .option('--restart', 'ignore a saved checkpoint and start from the beginning')
    .option('--json', 'print the result as JSON')
    // For tests and rehearsals: behave as if interrupted after n entries.
    .addOption(new Option('--stop-after <n>').argParser(parsePositiveInt).hideHelp())
    .addHelpText('after', REINDEX_HELP)
    .action(async (opts: ReindexOptions, cmd: Command) => {
      if ((opts.mailbox === undefined) === (opts.all !== true)) {
        throw new InputError('give --mailbox ADDRESS or --all (one of them)');
      }
      const address = opts.mailbox === undefined ? undefined : checkAddress(opts.mailbox, '--mailbox');
      const config = loadCliConfig(cmd);
      await withServices(config, (services) => reindex(services, address, opts));
    });
}

async function reindex(services: HermodServices, address: string | undefined, opts: ReindexOptions): Promise<void> {
  const { Reindexer, startingCheckpoint } = await import('../../search/reindexer.js');
  const { store, search, log, config } = services;
  const mailboxes = await selectMailboxes(store, address);
  const scope = address === undefined ? 'all' : `mailbox:${mailboxes[0].id}`;
  const checkpoints = fileCheckpoint<ReindexCheckpoint>(config.dataDir, `reindex-${scope}`);
  if (opts.restart) checkpoints.clear();
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  const start = startingCheckpoint(checkpoints, scope);
  const progress = startByteProgress('reindex', await totalBytes(services, mailboxes), alreadyDone(start));
  const reindexer = new Reindexer({
    store, index: search, log, mailboxes, all: address === undefined, checkpoints,
    batchSize: opts.batchSize, stopAfter: opts.stopAfter, shouldStop: () => interrupted,
    onBatch: (entries, bytes) => progress.add(entries, bytes),
  });
  process.on('SIGINT', onSigint);
  let result: ReindexResult;
  try {
    result = await reindexer.run(scope);
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
  }
  report(result, mailboxes, opts.json === true, checkpoints.file);
}

/** Bytes of all the mailboxes: the progress bar's total. */
async function totalBytes({ store }: HermodServices, mailboxes: Mailbox[]): Promise<number> {
  let total = 0;
  for (const mailbox of mailboxes) total += await store.mailboxUsage(mailbox.id);
  return total;
}

function alreadyDone(checkpoint: ReindexCheckpoint): { items: number; bytes: number } {
  const done = Object.values(checkpoint.mailboxes);
  return { items: done.reduce((n, p) => n + p.entries, 0), bytes: done.reduce((n, p) => n + p.bytes, 0) };
}

function report(result: ReindexResult, mailboxes: Mailbox[], json: boolean, file: string): void {
  if (json) printJson({ ...result, mailboxes: mailboxes.length });
  const resumed = result.resumedEntries > 0 ? ` (resumed after ${result.resumedEntries} done earlier)` : '';
  if (result.stopped) {
    throw new InterruptedRunError(
      `reindex stopped after ${result.entries} entries${resumed}; progress saved in ${file}: run the same command again to resume`,
    );
  }
  if (!json) {
    print(
      `reindexed ${result.entries} entries in ${mailboxes.length} mailbox(es)${resumed}; ` +
        `removed ${result.removed} orphaned document(s)`,
    );
  }
}
