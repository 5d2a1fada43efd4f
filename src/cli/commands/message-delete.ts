import type { Command } from 'commander';
import { deleteMessages } from '../../message-admin.js';
import { loadCliConfig, withServices } from '../context.js';
import { formatSize, formatTable, print, printJson } from '../format.js';
import { checkMessageId } from '../../admin/input-rules.js';

const DELETE_HELP = `
Removes each message from its mailbox and from the search index; the bytes as received go too
when no other mailbox holds the same message. For abuse and erasure requests: there is no undo.
Every id is checked first; one unknown id stops the command before anything is deleted.

Examples:
  hermod message delete 01J9Z3K4QY3V6S8T2W1X0Y9Z8A --dry-run
  hermod message delete 01J9Z3K4QY3V6S8T2W1X0Y9Z8A 01J9Z3K5B2C7D8E9F0G1H2J3K4`;

/** Registers `hermod message delete ID... [--dry-run]`. */
export function registerDelete(message: Command): void {
  message
    .command('delete')
    .description('delete messages from the store and the search index')
    .argument('<ids...>', 'message ids, as shown by message list or search')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--json', 'print JSON ({dryRun, messages, indexPending})')
    .addHelpText('after', DELETE_HELP)
    .action(async (ids: string[], opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const checked = ids.map((id) => checkMessageId(id, 'message id'));
      await withServices(loadCliConfig(cmd), async (services) => {
        const result = await deleteMessages(services, checked, { dryRun: opts.dryRun });
        if (opts.json) return printJson(result);
        const rows = result.messages.map((m) => [m.id, m.mailbox, m.folder, formatSize(m.size), m.subject]);
        print(`${result.dryRun ? 'would delete' : 'deleted'} ${result.messages.length} message(s)`);
        print(formatTable([{ header: 'id' }, { header: 'mailbox' }, { header: 'folder' }, { header: 'size', align: 'right' }, { header: 'subject', maxWidth: 50 }], rows).trimEnd());
        if (!result.dryRun && result.indexPending > 0) {
          print(`search index: ${result.indexPending} change(s) still queued; the indexer of hermod serve applies them`);
        }
      });
    });
}
