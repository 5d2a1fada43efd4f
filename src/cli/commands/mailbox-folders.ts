import type { Command } from 'commander';
import { mailboxFolders } from '../../message-admin.js';
import { loadCliConfig, withServices } from '../context.js';
import { formatSize, formatTable, print, printJson } from '../format.js';
import { checkAddress } from '../../admin/input-rules.js';

/** Registers `hermod mailbox folders ADDRESS`. */
export function registerFolders(mailbox: Command): void {
  mailbox
    .command('folders')
    .description('list the folders of a mailbox with their message counts and sizes')
    .argument('<address>', 'the mailbox: its address or one of its aliases')
    .option('--json', 'print JSON ({mailbox, folders: [{folder, messages, bytes}]})')
    .addHelpText(
      'after',
      '\nFolders exist while they hold messages. INBOX is INBOX in any case; "/" separates levels\n' +
        '(Archive/2024). Sizes are those of message list: Hermod\'s added headers plus the bytes received.',
    )
    .action(async (address: string, opts: { json?: boolean }, cmd: Command) => {
      const checked = checkAddress(address, 'ADDRESS');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const listing = await mailboxFolders(store, checked);
        if (opts.json) return printJson(listing);
        if (listing.folders.length === 0) return print(`no messages in ${listing.mailbox.address}`);
        const total = listing.folders.reduce((t, f) => ({ messages: t.messages + f.messages, bytes: t.bytes + f.bytes }), { messages: 0, bytes: 0 });
        const rows = [
          ...listing.folders.map((f) => [f.folder, String(f.messages), formatSize(f.bytes)]),
          ['(total)', String(total.messages), formatSize(total.bytes)],
        ];
        print(formatTable([{ header: 'folder' }, { header: 'messages', align: 'right' }, { header: 'size', align: 'right' }], rows).trimEnd());
      });
    });
}
