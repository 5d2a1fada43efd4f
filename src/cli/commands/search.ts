import { Option, type Command } from 'commander';
import { searchMessages } from '../../admin/messages.js';
import { loadCliConfig, withServices } from '../context.js';
import { findMailbox, printEntries } from '../entries.js';
import { parsePositiveInt } from '../validate.js';
import { checkAddress } from '../../admin/input-rules.js';

interface SearchOptions {
  mailbox: string;
  limit: number;
  json?: boolean;
}

const QUERY_HELP = `
Query syntax (all conditions must hold):
  word               the word is in the subject, body or an attachment name
  "a phrase"         the words appear in that order
  from:x             the From header contains x (address or name; quote names)
  to:x               a To or Cc address contains x
  subject:w          the subject contains the word (or "a phrase")
  tag:x              the message carries tag x
  folder:X           the message is in folder X, e.g. folder:Junk
  has:attachment     the message has an attachment
  after:YYYY-MM-DD   on or after that day (UTC)
  before:YYYY-MM-DD  before that day (UTC)

Examples:
  hermod search --mailbox alice@example.org invoice
  hermod search --mailbox alice@example.org 'from:bob has:attachment after:2024-01-01'

Messages delivered moments ago show up once the indexer has caught up.`;

/** Registers `hermod search`. */
export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('full-text search in one mailbox; results newest first, in the columns of message list')
    .requiredOption('--mailbox <address>', 'mailbox to read: its address or one of its aliases (required)')
    .argument('<query...>', 'search query (quote it, or give several words)')
    .addOption(new Option('--limit <n>', 'show at most n results').argParser(parsePositiveInt).default(50))
    .option('--json', 'print JSON (an array of mailbox entries) instead of a table')
    .addHelpText('after', QUERY_HELP)
    .action(async (words: string[], opts: SearchOptions, cmd: Command) => {
      const address = checkAddress(opts.mailbox, '--mailbox');
      const config = loadCliConfig(cmd);
      // Parsed before the store opens, so a bad query is a usage error without touching storage.
      const { parseSearchQuery } = await import('../../search/query-parser.js');
      parseSearchQuery(words.join(' '));
      await withServices(config, async ({ store, search }) => {
        const mailbox = await findMailbox(store, address);
        const found = await searchMessages(store, search, mailbox.id, words.join(' '), opts.limit);
        printEntries(found, opts.json, 'no messages match');
      });
    });
}
