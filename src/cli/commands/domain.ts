import type { Command } from 'commander';
import { listDomains } from '../../admin/directory.js';
import { loadCliConfig, withServices } from '../context.js';
import { formatDate, formatTable, print, printJson } from '../format.js';
import { checkDomain } from '../../admin/input-rules.js';

/** Registers `hermod domain add | list | remove`. */
export function registerDomainCommands(program: Command): void {
  const domain = program
    .command('domain')
    .description('manage the domains Hermod accepts mail for')
    .addHelpText(
      'after',
      '\nA domain must exist before mailboxes can be added under it.\n' +
        'Examples:\n  hermod domain add example.org\n  hermod domain list --json\n  hermod domain remove example.org',
    );
  registerAdd(domain);
  registerList(domain);
  registerRemove(domain);
}

function registerAdd(domain: Command): void {
  domain
    .command('add')
    .description('add a local domain; mail to mailboxes under it is then accepted')
    .argument('<name>', 'domain name, e.g. example.org (stored lower-cased)')
    .action(async (name: string, _opts: object, cmd: Command) => {
      const domainName = checkDomain(name, 'domain name');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const added = await store.addDomain(domainName);
        print(`domain added: ${added.name}`);
      });
    });
}

function registerList(domain: Command): void {
  domain
    .command('list')
    .description('list the local domains with the number of mailboxes in each')
    .option('--json', 'print JSON (an array of {name, createdAt, mailboxes}) instead of a table')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const rows = await listDomains(store);
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return print('no domains (add one with: hermod domain add NAME)');
        print(
          formatTable(
            [{ header: 'domain' }, { header: 'mailboxes', align: 'right' }, { header: 'created' }],
            rows.map((d) => [d.name, String(d.mailboxes), formatDate(d.createdAt)]),
          ),
        );
      });
    });
}

function registerRemove(domain: Command): void {
  domain
    .command('remove')
    .description('remove a local domain; refused while it still has mailboxes')
    .argument('<name>', 'domain name to remove')
    .action(async (name: string, _opts: object, cmd: Command) => {
      const domainName = checkDomain(name, 'domain name');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        await store.removeDomain(domainName);
        print(`domain removed: ${domainName}`);
      });
    });
}
