import { Option, type Command } from 'commander';
import { parseScopes, SCOPES } from '../../ops/api/scopes.js';
import { TokenFile, tokenFilePath } from '../../ops/api/tokens.js';
import { loadCliConfig } from '../context.js';
import { formatDate, formatTable, print, printJson } from '../format.js';

const TOKEN_HELP = `
Scopes (comma-separated or repeated): read (every :read scope), all (every scope), or
${SCOPES.join(', ')}.

The token is printed once; Hermod keeps only its SHA-256 in ops.api.tokensFile (under dataDir).
Send it as "Authorization: Bearer TOKEN" to the admin API (ops.api.enabled).

Examples:
  hermod token create --scope read --name grafana
  hermod token create --scope queue:read,queue:write --name oncall
  hermod token list
  hermod token revoke 3f9a1c0d5e7b2a64`;

/** Registers `hermod token create | list | revoke`. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('admin API bearer tokens: create, list, revoke').addHelpText('after', TOKEN_HELP);
  token
    .command('create')
    .description('create a token with the given scopes; prints it once')
    .addOption(new Option('--scope <scopes>', 'scopes, comma-separated (repeat for more); see below').argParser(collect).makeOptionMandatory())
    .option('--name <name>', 'what the token is for, shown by token list', '')
    .option('--json', 'print JSON ({token, id, name, scopes, createdAt})')
    .action((opts: { scope: string[]; name: string; json?: boolean }, cmd: Command) => {
      const scopes = parseScopes(opts.scope);
      const file = new TokenFile(tokenFilePath(loadCliConfig(cmd)));
      const { token: secret, info } = file.create(scopes, opts.name);
      if (opts.json) return printJson({ token: secret, ...info });
      print(`${secret}\n`);
      print(`token ${info.id} created with scopes ${scopes.join(', ')}; it is shown only this once`);
    });
  token
    .command('list')
    .description('list tokens (id, name, scopes, created); never the tokens themselves')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const tokens = new TokenFile(tokenFilePath(loadCliConfig(cmd))).list();
      if (opts.json) return printJson(tokens);
      if (tokens.length === 0) return print('no tokens (create one with: hermod token create --scope read)');
      print(formatTable(
        [{ header: 'id' }, { header: 'name', maxWidth: 30 }, { header: 'created' }, { header: 'scopes' }],
        tokens.map((t) => [t.id, t.name || '-', formatDate(t.createdAt), t.scopes.join(',')]),
      ));
    });
  token
    .command('revoke')
    .description('revoke a token at once (a running server re-reads the token file)')
    .argument('<id>', 'token id, as token list shows it')
    .action((id: string, _opts: object, cmd: Command) => {
      const revoked = new TokenFile(tokenFilePath(loadCliConfig(cmd))).revoke(id);
      print(`token ${revoked.id} revoked`);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
