import { Option, type Command } from 'commander';
import { listMailboxes } from '../../admin/directory.js';
import { loadCliConfig, withServices } from '../context.js';
import { formatDate, formatQuota, formatSize, formatTable, print, printJson } from '../format.js';
import { parseSize } from '../parse-size.js';
import { collectAddress } from '../validate.js';
import { checkAddress, checkDomain } from '../../admin/input-rules.js';
import { registerFolders } from './mailbox-folders.js';
import { registerPasswd } from './mailbox-passwd.js';

interface AddOptions {
  alias?: string[];
  quota?: number;
}

interface ListOptions {
  domain?: string;
  json?: boolean;
}

/** Registers `hermod mailbox add | list | remove`. */
export function registerMailboxCommands(program: Command): void {
  const mailbox = program
    .command('mailbox')
    .description('manage mailboxes: one address, any number of aliases, a quota')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  hermod mailbox add alice@example.org --alias a@example.org --quota 2G\n' +
        '  hermod mailbox list --domain example.org\n' +
        '  hermod mailbox remove alice@example.org\n' +
        '  hermod mailbox passwd alice@example.org',
    );
  registerAdd(mailbox);
  registerList(mailbox);
  registerRemove(mailbox);
  registerPasswd(mailbox);
  registerFolders(mailbox);
}

function registerAdd(mailbox: Command): void {
  mailbox
    .command('add')
    .description('add a mailbox; its domain must already exist (see: hermod domain add)')
    .argument('<address>', 'primary address, local@domain')
    .addOption(
      new Option('--alias <address>', 'another address delivered to this mailbox (repeat for more)').argParser(
        collectAddress,
      ),
    )
    .addOption(
      new Option(
        '--quota <size>',
        'quota in bytes or with a unit: 1024K, 500M, 2G; 0 = unlimited (default: quota.defaultBytes from config)',
      ).argParser(parseSize),
    )
    .action(async (address: string, opts: AddOptions, cmd: Command) => {
      const primary = checkAddress(address, 'mailbox address');
      const config = loadCliConfig(cmd);
      const quotaBytes = opts.quota ?? config.quota.defaultBytes;
      await withServices(config, async ({ store }) => {
        const added = await store.addMailbox({ address: primary, aliases: opts.alias ?? [], quotaBytes });
        const aliases = added.aliases.length ? `, aliases ${added.aliases.join(', ')}` : '';
        print(`mailbox added: ${added.address} (quota ${formatQuota(added.quotaBytes)}${aliases})`);
      });
    });
}

function registerList(mailbox: Command): void {
  mailbox
    .command('list')
    .description('list mailboxes with their aliases, quota and space used')
    .option('--domain <domain>', 'only mailboxes under this domain')
    .option('--json', 'print JSON (an array of mailboxes with usedBytes) instead of a table')
    .action(async (opts: ListOptions, cmd: Command) => {
      const domain = opts.domain === undefined ? undefined : checkDomain(opts.domain, '--domain');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const rows = await listMailboxes(store, domain);
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return print(domain ? `no mailboxes under ${domain}` : 'no mailboxes');
        print(
          formatTable(
            [
              { header: 'address' },
              { header: 'aliases', maxWidth: 60 },
              { header: 'quota', align: 'right' },
              { header: 'used', align: 'right' },
              { header: 'created' },
            ],
            rows.map((m) => [
              m.address,
              m.aliases.join(', ') || '-',
              formatQuota(m.quotaBytes),
              formatSize(m.usedBytes),
              formatDate(m.createdAt),
            ]),
          ),
        );
      });
    });
}

function registerRemove(mailbox: Command): void {
  mailbox
    .command('remove')
    .description('remove a mailbox and its aliases')
    .argument('<address>', 'primary address of the mailbox')
    .action(async (address: string, _opts: object, cmd: Command) => {
      const primary = checkAddress(address, 'mailbox address');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        await store.removeMailbox(primary);
        print(`mailbox removed: ${primary}`);
      });
    });
}
