import { Option, type Command } from 'commander';
import { createDnsClient } from '../../net/dns-resolver.js';
import type { HermodConfig } from '../../config/schema.js';
import { RSA_DEFAULT_BITS, RSA_MAX_BITS, RSA_MIN_BITS, txtRecord, type DkimAlgorithm } from '../../queue/dkim-keys.js';
import { activateDkimKey, checkDkimKey, dkimKeysOf, recordKeyOf } from '../../queue/dkim-lifecycle.js';
import { EXIT_FAILURE } from '../exit-codes.js';
import { loadCliConfig } from '../context.js';
import { formatDate, formatTable, print, printJson } from '../format.js';
import { parsePositiveInt } from '../validate.js';

const LIFECYCLE = `
A key has a lifecycle: \`generate\` creates it INACTIVE (nothing is signed with a key whose TXT
record cannot exist yet); publish the record it prints; \`check\` looks it up; \`activate\` (with
--check, only once DNS has it) switches signing to it. The previous key stays on disk, and its
record keeps verifying mail already sent, until \`remove\`.

Examples:
  hermod dkim generate example.org --selector 2026a
  hermod dkim generate example.org --selector 2026e --type ed25519
  hermod dkim check example.org 2026a
  hermod dkim activate example.org 2026a --check
  hermod dkim remove example.org hermod`;

/** Registers `hermod dkim generate | list | show | check | activate | remove`. */
export function registerDkimCommands(program: Command): void {
  const dkim = program
    .command('dkim')
    .description('DKIM keys for signing outbound mail: generate, publish, check, activate, remove')
    .addHelpText('after', LIFECYCLE);
  dkim
    .command('generate')
    .description('create an inactive signing key for a domain and print the DNS TXT record to publish')
    .argument('<domain>', 'sender domain (the From header domain of outbound mail; IDNA allowed)')
    .option('--selector <name>', 'DKIM selector (default: dkim.defaultSelector)')
    .addOption(new Option('--type <algorithm>', 'rsa, or ed25519 (RFC 8463)').choices(['rsa', 'ed25519']).default('rsa'))
    .option('--bits <n>', `RSA key size, ${RSA_MIN_BITS} to ${RSA_MAX_BITS} (default ${RSA_DEFAULT_BITS})`, parsePositiveInt)
    .option('--json', 'print JSON ({domain, selector, algorithm, file, record, active})')
    .action((domain: string, opts: { selector?: string; type: DkimAlgorithm; bits?: number; json?: boolean }, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const selector = opts.selector ?? config.dkim.defaultSelector;
      const { key, file, record } = dkimKeysOf(config).generate(domain, selector, { algorithm: opts.type, bits: opts.bits });
      if (opts.json) return printJson({ domain: key.domain, selector: key.selector, algorithm: key.algorithm, file, record, active: false });
      print(
        `${key.algorithm} key written to ${file} (inactive)\n` +
          `Publish this TXT record, then: hermod dkim activate ${key.domain} ${key.selector} --check\n\n${record}`,
      );
    });
  dkim
    .command('list')
    .description("list a domain's keys and which one signs")
    .argument('<domain>', 'sender domain')
    .option('--json', 'print JSON')
    .action((domain: string, opts: { json?: boolean }, cmd: Command) => {
      const keys = dkimKeysOf(loadCliConfig(cmd)).list(domain);
      if (opts.json) return printJson(keys);
      if (keys.length === 0) return print(`no DKIM keys for ${domain} (create one with: hermod dkim generate ${domain})`);
      const rows = keys.map((k) => [k.selector, k.algorithm, k.bits ? String(k.bits) : '-', k.active ? 'active' : 'inactive', formatDate(k.created)]);
      process.stdout.write(formatTable([{ header: 'selector' }, { header: 'type' }, { header: 'bits', align: 'right' }, { header: 'state' }, { header: 'created' }], rows));
    });
  dkim
    .command('show')
    .description('print the TXT record of a key (default: the active key, else the newest)')
    .argument('<domain>', 'sender domain')
    .argument('[selector]', 'the key to show')
    .action((domain: string, selector: string | undefined, _opts: object, cmd: Command) => {
      print(txtRecord(recordKeyOf(dkimKeysOf(loadCliConfig(cmd)), domain, selector)));
    });
  dkim
    .command('check')
    .description('look up a key\'s TXT record in DNS (delivery.dnsServers) and compare it with the key')
    .argument('<domain>', 'sender domain')
    .argument('[selector]', 'the key to check (default: the active key, else the newest)')
    .option('--json', 'print JSON ({name, status, found})')
    .addHelpText('after', '\nExit status 0 when the record carries the key, 1 when it is missing or different.')
    .action(async (domain: string, selector: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const keys = dkimKeysOf(config);
      const key = recordKeyOf(keys, domain, selector);
      const dns = dnsOf(config);
      try {
        const check = await checkDkimKey(keys, key.domain, key.selector, dns.lookup);
        if (opts.json) printJson(check);
        else print(`${check.name}: ${check.status === 'match' ? 'published, matches the key' : check.status === 'missing' ? 'no DKIM record' : 'record holds a different key'}`);
        if (check.status !== 'match') process.exitCode = EXIT_FAILURE;
      } finally {
        dns.close();
      }
    });
  dkim
    .command('activate')
    .description('sign the domain\'s outbound mail with this key from now on')
    .argument('<domain>', 'sender domain')
    .argument('<selector>', 'the key to activate')
    .option('--check', 'first verify in DNS that the TXT record carries the key; refuse otherwise')
    .action(async (domain: string, selector: string, opts: { check?: boolean }, cmd: Command) => {
      const config = loadCliConfig(cmd);
      const dns = opts.check ? dnsOf(config) : undefined;
      try {
        const done = await activateDkimKey(dkimKeysOf(config), domain, selector, dns?.lookup);
        const before = done.previous ? `; ${done.previous} stays published and verifying until: hermod dkim remove ${done.domain} ${done.previous}` : '';
        print(`${done.domain} now signs with ${done.selector}${before}`);
      } finally {
        dns?.close();
      }
    });
  dkim
    .command('remove')
    .description('delete an inactive key (then remove its TXT record once mail signed with it is delivered)')
    .argument('<domain>', 'sender domain')
    .argument('<selector>', 'the key to delete')
    .action((domain: string, selector: string, _opts: object, cmd: Command) => {
      const { file } = dkimKeysOf(loadCliConfig(cmd)).remove(domain, selector);
      print(`removed ${file}`);
    });
}

function dnsOf(config: HermodConfig) {
  return createDnsClient({ servers: [...config.delivery.dnsServers], timeoutMs: 5000, tries: 2 }, 'delivery.dnsServers');
}
