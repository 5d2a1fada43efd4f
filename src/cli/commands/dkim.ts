import { join } from 'node:path';
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { DkimKeys, txtRecord } from '../../queue/dkim-keys.js';
import { loadCliConfig } from '../context.js';
import { print, printJson } from '../format.js';
import { checkDomain, parsePositiveInt } from '../validate.js';

/** Registers `hermod dkim generate | show`. */
export function registerDkimCommands(program: Command): void {
  const dkim = program
    .command('dkim')
    .description('DKIM keys for signing outbound mail, one per sender domain')
    .addHelpText('after', '\nExamples:\n  hermod dkim generate example.org --selector 2026\n  hermod dkim show example.org');
  dkim
    .command('generate')
    .description('create a signing key for a domain and print the DNS TXT record to publish')
    .argument('<domain>', 'sender domain (the From header domain of outbound mail)')
    .option('--selector <name>', 'DKIM selector (default: dkim.defaultSelector)')
    .option('--bits <n>', 'RSA key size', parsePositiveInt, 2048)
    .option('--json', 'print JSON ({domain, selector, file, record})')
    .action((domain: string, opts: { selector?: string; bits: number; json?: boolean }, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const keys = new DkimKeys(join(config.dataDir, config.dkim.keyDir));
      const selector = opts.selector ?? config.dkim.defaultSelector;
      const { key, file, record } = keys.generate(checkDomain(domain, 'domain'), selector, opts.bits);
      if (opts.json) return printJson({ domain: key.domain, selector, file, record });
      print(`key written to ${file}\nPublish this TXT record, then mail from ${key.domain} is signed with it:\n\n${record}`);
    });
  dkim
    .command('show')
    .description('print the TXT record of the key that signs for a domain')
    .argument('<domain>', 'sender domain')
    .action((domain: string, _opts: object, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const key = new DkimKeys(join(config.dataDir, config.dkim.keyDir)).forDomain(checkDomain(domain, 'domain'));
      if (!key) throw new NotFoundError(`no DKIM key for ${domain} (create one with: hermod dkim generate ${domain})`);
      print(txtRecord(key));
    });
}
