import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';

/** Adds one top-level command (and its subcommands) to the program. */
type RegisterCommand = (program: Command) => void;

/**
 * Every top-level command, by name, with the import of its module. A run imports only the module
 * of the command it names: `hermod serve` then holds none of the admin commands (nor what they
 * import) in memory for its whole life. Help, a bad command name and no command at all import
 * every one, so the listing and the suggestions stay complete. Listed in help order.
 */
const COMMANDS: [name: string, load: () => Promise<RegisterCommand>][] = [
  ['serve', async () => (await import('./commands/serve.js')).registerServeCommand],
  ['domain', async () => (await import('./commands/domain.js')).registerDomainCommands],
  ['mailbox', async () => (await import('./commands/mailbox.js')).registerMailboxCommands],
  ['message', async () => (await import('./commands/message.js')).registerMessageCommands],
  ['search', async () => (await import('./commands/search.js')).registerSearchCommand],
  ['index', async () => (await import('./commands/index-verify.js')).registerIndexCommands],
  ['reindex', async () => (await import('./commands/reindex.js')).registerReindexCommand],
  ['migrate-data', async () => (await import('./commands/migrate-data.js')).registerMigrateDataCommand],
  ['spam', async () => (await import('./commands/spam.js')).registerSpamCommands],
  ['send', async () => (await import('./commands/send.js')).registerSendCommand],
  ['queue', async () => (await import('./commands/queue.js')).registerQueueCommands],
  ['dkim', async () => (await import('./commands/dkim.js')).registerDkimCommands],
  ['token', async () => (await import('./commands/token.js')).registerTokenCommands],
  ['config', async () => (await import('./commands/config.js')).registerConfigCommands],
  ['migrate', async () => (await import('./commands/migrate.js')).registerMigrateCommand],
];

/**
 * The command an argument list names: its first word that is neither a global option nor the
 * value of -c/--config. Undefined when there is none (help or version only).
 */
export function commandNamed(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-c' || arg === '--config') i++;
    else if (arg === '--') return args[i + 1];
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

const FOOTER = `
Configuration: -c/--config FILE, else HERMOD_CONFIG, else ${DEFAULT_CONFIG_FILE} when present;
HERMOD_* variables override single keys (HERMOD_DATA_DIR=/srv/hermod sets dataDir,
HERMOD_LMTP__PORT=2424 sets lmtp.port, HERMOD_PROXY__TRUSTED=10.0.0.0/8,192.168.0.0/16 a list).
Relative paths in the config file resolve against its directory; see: hermod config show.

Exit status: 0 success; 1 failure (not found, storage error, internal error);
2 usage error (bad flag or argument, invalid input, invalid configuration).
Errors are one line on stderr; set HERMOD_DEBUG=1 for stack traces and debug logs.

Run "hermod <command> --help" for the options of a command.`;

/** The version in package.json, found by walking up from this file (works from src/ and dist/). */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    dir = dirname(dir);
  }
  return '0.0.0';
}

/**
 * Builds the `hermod` program for the arguments it will parse (without the node and script
 * paths): with the named command alone when it is one, else with all of them (see COMMANDS). Errors are not printed or turned into exits by commander: it
 * throws CommanderError (exitOverride) and main.ts reports every error in one place.
 * Settings are made before the commands are added, because subcommands copy them when created.
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('hermod')
    .description('Hermod mail server: run the LMTP/SMTP/submission listeners, manage domains, mailboxes and messages, and send mail through the outbound queue')
    .version(readVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(
      new Option('-c, --config <file>', `configuration file (YAML); default: ${DEFAULT_CONFIG_FILE} if present`).env(
        'HERMOD_CONFIG',
      ),
    )
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', FOOTER);

  const named = commandNamed(args);
  const only = COMMANDS.filter(([name]) => name === named);
  for (const [, load] of only.length > 0 ? only : COMMANDS) (await load())(program);
  return program;
}
