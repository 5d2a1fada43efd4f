import { Option, type Command } from 'commander';
import { getMessage, listMessages, messageLedger, showMessage } from '../../admin/messages.js';
import { NotFoundError } from '../../errors.js';
import { checkFolder } from '../../store/input-checks.js';
import type { MessageStore } from '../../store/message-store.js';
import type { LedgerLine, MailboxEntry } from '../../store/types.js';
import { loadCliConfig, withServices } from '../context.js';
import { findMailbox, formatScore, printEntries } from '../entries.js';
import { cleanText } from '../../admin/input-rules.js';
import { formatDate, formatFields, formatSize, formatTable, print, printJson } from '../format.js';
import { parsePositiveInt } from '../validate.js';
import { checkAddress, checkMessageId } from '../../admin/input-rules.js';
import { registerDelete } from './message-delete.js';
import { registerMove } from './message-move.js';
import { registerReclassify } from './message-reclassify.js';
import { withSpamFields } from '../../admin/spam-fields.js';

interface ListOptions {
  mailbox: string;
  folder?: string;
  limit: number;
  before?: string;
  json?: boolean;
}

interface ShowOptions {
  raw?: boolean;
  ledger?: boolean;
  json?: boolean;
}

/** Registers `hermod message list | show | move | delete | reclassify`. */
export function registerMessageCommands(program: Command): void {
  const message = program
    .command('message')
    .description('stored messages: list a mailbox, show one message (raw bytes, ledger), move, delete, reclassify');
  registerList(message);
  registerShow(message);
  registerMove(message);
  registerDelete(message);
  registerReclassify(message);
}

function registerList(message: Command): void {
  message
    .command('list')
    .description('list messages in a mailbox, newest first (dates in UTC)')
    .requiredOption('--mailbox <address>', 'mailbox to read: its address or one of its aliases (required)')
    .option('--folder <folder>', 'only this folder, e.g. INBOX or Junk (default: all folders)')
    .addOption(
      new Option('--limit <n>', 'show at most n messages').argParser(parsePositiveInt).default(50),
    )
    .option('--before <id>', 'page back: only messages older than this message id')
    .option('--json', 'print JSON (an array of mailbox entries, each with spam: { score, bayes: { verdict, probability } })')
    .addHelpText(
      'after',
      '\nColumns: id, date, folder, from, subject, size, tags, spam score.\n' +
        'To page, pass the last id shown as --before.',
    )
    .action(async (opts: ListOptions, cmd: Command) => {
      const address = checkAddress(opts.mailbox, '--mailbox');
      const before = opts.before === undefined ? undefined : checkMessageId(opts.before, '--before');
      const folder = opts.folder === undefined ? undefined : checkFolder(opts.folder);
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const mailbox = await findMailbox(store, address);
        const entries = await listMessages(store, {
          mailboxId: mailbox.id,
          folder,
          limit: opts.limit,
          before,
        });
        // --json carries the spam score and the Bayes verdict and probability of each message.
        const listed = opts.json ? await withSpamFields(store, entries) : entries;
        printEntries(listed, opts.json, `no messages in ${mailbox.address}${opts.folder ? ` (${opts.folder})` : ''}`);
      });
    });
}

function registerShow(message: Command): void {
  message
    .command('show')
    .description('show one message: its summary and headers (default), its raw bytes, or its ledger')
    .argument('<id>', 'message id, as shown by message list or search')
    .addOption(
      new Option('--raw', 'write the full message (Hermod headers + bytes as received) to stdout, byte-exact').conflicts([
        'ledger',
        'json',
      ]),
    )
    .addOption(
      new Option('--ledger', 'show the ledger: what each plugin found and decided, and how long it took'),
    )
    .option('--json', 'print JSON instead of text (with --ledger: the ledger lines)')
    .action(async (id: string, opts: ShowOptions, cmd: Command) => {
      const entryId = checkMessageId(id, 'message id');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        if (opts.ledger) return showLedger(await messageLedger(store, entryId), opts.json);
        const entry = await getMessage(store, entryId);
        if (opts.raw) return writeRaw(store, entry);
        return showSummary(store, entry, opts.json);
      });
    });
}

/** Writes the message bytes unchanged and waits until stdout has taken them. */
async function writeRaw(store: MessageStore, entry: MailboxEntry): Promise<void> {
  const bytes = await store.getFullMessage(entry.id);
  if (!bytes) throw new NotFoundError(`message ${entry.id}: raw bytes missing (sha256 ${entry.sha256})`);
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

function showLedger(ledger: LedgerLine[], json: boolean | undefined): void {
  if (json) return printJson(ledger);
  if (ledger.length === 0) return print('the ledger is empty');
  print(
    formatTable(
      [
        { header: 'plugin' },
        { header: 'stage' },
        { header: 'verdict' },
        { header: 'score', align: 'right' },
        { header: 'reason', maxWidth: 70 },
        { header: 'duration ms', align: 'right' },
      ],
      ledger.map((l) => [l.plugin, l.stage, l.verdict, formatScore(l.score), l.reason || '-', formatMs(l.durationMs)]),
    ),
  );
}

/** Milliseconds with at most one decimal: 12, 1.3. */
function formatMs(ms: number): string {
  return String(Math.round(ms * 10) / 10);
}

async function showSummary(store: MessageStore, entry: MailboxEntry, json: boolean | undefined): Promise<void> {
  const view = await showMessage(store, entry);
  if (json) return printJson(view);
  print(formatFields(summaryFields(entry)));
  print('');
  print('headers:');
  if (view.headers.length === 0) return print('  (raw message missing)');
  for (const h of view.headers) {
    const mark = h.forged ? '   [forged: claims this server\'s authserv-id; not Hermod\'s result]' : '';
    print(`  ${cleanText(h.name)}: ${cleanText(h.value)}${mark}`);
  }
}

/** The label/value pairs `message show` prints above the headers. */
function summaryFields(e: MailboxEntry): [string, string][] {
  const s = e.summary;
  const attachments = s.attachments.map((a) => `${a.filename} (${a.contentType}, ${formatSize(a.size)})`);
  const env = e.envelope;
  return [
    ['id', e.id],
    ['mailbox', e.mailboxAddress],
    ['folder', e.folder],
    ['received', formatDate(e.receivedAt)],
    ['date', formatDate(s.date)],
    ['from', s.from],
    ['to', s.to.join(', ')],
    ['cc', s.cc.join(', ')],
    ['subject', s.subject],
    ['message-id', s.messageId ?? ''],
    ['size', `${formatSize(e.size)} (${e.size} bytes)`],
    ['flags', e.flags.join(', ')],
    ['tags', e.tags.join(', ')],
    ['importance', String(e.importance)],
    ['spam score', formatScore(e.spamScore)],
    ['thread', e.threadId],
    ['sha256', e.sha256],
    ['envelope', `from <${env.mailFrom}> to <${env.rcptTo}> client ${env.clientAddress} txn ${env.transactionId}`],
    ['attachments', attachments.join('; ')],
  ];
}
