import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDkimCommands } from './commands/dkim.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerSendCommand } from './commands/send.js';
import { registerDomainCommands } from './commands/domain.js';
import { registerIndexCommands } from './commands/index-verify.js';
import { registerMailboxCommands } from './commands/mailbox.js';
import { registerMessageCommands } from './commands/message.js';
import { registerMigrateDataCommand } from './commands/migrate-data.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerReindexCommand } from './commands/reindex.js';
import { registerSearchCommand } from './commands/search.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSpamCommands } from './commands/spam.js';
import { registerTokenCommands } from './commands/token.js';

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
 * Builds the `hermod` program. Errors are not printed or turned into exits by commander: it
 * throws CommanderError (exitOverride) and main.ts reports every error in one place.
 * Settings are made before the commands are added, because subcommands copy them when created.
 */
export function buildProgram(): Command {
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

  registerServeCommand(program);
  registerDomainCommands(program);
  registerMailboxCommands(program);
  registerMessageCommands(program);
  registerSearchCommand(program);
  registerIndexCommands(program);
  registerReindexCommand(program);
  registerMigrateDataCommand(program);
  registerSpamCommands(program);
  registerSendCommand(program);
  registerQueueCommands(program);
  registerDkimCommands(program);
  registerTokenCommands(program);
  registerConfigCommands(program);
  registerMigrateCommand(program);
  return program;
}
