import { InvalidArgumentError, type Command } from 'commander';
import type { HermodConfig } from '../../config/schema.js';
import { thresholdsFor } from '../../pipeline/decision.js';
import type { PluginReplay } from '../../pipeline/replay.js';
import type { MessageStore } from '../../store/message-store.js';
import type { Mailbox, MailboxEntry } from '../../store/types.js';
import { createCliLogger, loadCliConfig, withServices } from '../context.js';
import { findMailbox } from '../entries.js';
import { scanEntries } from '../../admin/entry-scan.js';
import { print } from '../format.js';
import { startProgress } from '../progress.js';
import { contributionOf, deliveredAuth, lastClassifyLine, planReclassification } from '../reclassify.js';
import { checkAddress } from '../../admin/input-rules.js';

interface ReclassifyOptions {
  mailbox: string;
  since?: Date;
}

/** Counts of a reclassification run. */
interface Outcome {
  changed: number;
  moved: number;
  unchanged: number;
  keptInJunk: number;
  missing: number;
}

const RECLASSIFY_HELP = `
Runs the classify plugin again (with the rules in the current configuration) on stored mail,
the way delivery does: the raw message is parsed by the parse plugin, then classified (rules on
SPF/DKIM/DMARC see the auth plugin's results from delivery, kept in the ledger). Tags and
importance from the classify rules are replaced; tags from other plugins stay. A message moves
to the folder the new rules suggest only while it is still where the old rules put it: mail in
Junk stays in Junk, and mail moved by hand stays where it was put.

Examples:
  hermod message reclassify --mailbox alice@example.org
  hermod message reclassify --mailbox alice@example.org --since 2026-01-01`;

/** commander parser for `--since`: YYYY-MM-DD (UTC midnight) or an ISO 8601 date and time. */
export function parseSince(value: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const date = /^\d{4}-\d{2}-\d{2}/.test(iso) ? new Date(iso) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ');
  return date;
}

/** Registers `hermod message reclassify`. */
export function registerReclassify(message: Command): void {
  message
    .command('reclassify')
    .description('run the classify rules again on stored mail (after the rules changed): tags, folder, importance')
    .requiredOption('--mailbox <address>', 'mailbox to reclassify: its address or one of its aliases (required)')
    .option('--since <date>', 'only messages received on or after this date (UTC), e.g. 2026-01-01', parseSince)
    .addHelpText('after', RECLASSIFY_HELP)
    .action(async (opts: ReclassifyOptions, cmd: Command) => {
      const address = checkAddress(opts.mailbox, '--mailbox');
      const config = loadCliConfig(cmd);
      const [{ PluginReplay }, { builtinPlugins }] = await Promise.all([
        import('../../pipeline/replay.js'),
        import('../../../plugins/index.js'),
      ]);
      await withServices(config, async ({ store }) => {
        const mailbox = await findMailbox(store, address);
        const entries = await scanEntries(store, { mailboxId: mailbox.id, since: opts.since });
        const deps = { log: createCliLogger(), hostname: config.hostname, dataDir: config.dataDir, store };
        const replay = await PluginReplay.open(config, builtinPlugins, ['parse', 'classify'], deps, ['classify']);
        try {
          const outcome = await reclassifyAll(store, replay, config, mailbox, entries);
          printOutcome(mailbox, entries.length, outcome);
        } finally {
          await replay.close();
        }
      });
    });
}

async function reclassifyAll(
  store: MessageStore,
  replay: PluginReplay,
  config: HermodConfig,
  mailbox: Mailbox,
  entries: MailboxEntry[],
): Promise<Outcome> {
  const outcome: Outcome = { changed: 0, moved: 0, unchanged: 0, keptInJunk: 0, missing: 0 };
  const progress = startProgress('reclassifying', entries.length);
  try {
    for (const entry of entries) {
      await reclassifyOne(store, replay, config, mailbox, entry, outcome);
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  return outcome;
}

/** Classifies one entry again and stores the change, with the new classify line in its ledger. */
async function reclassifyOne(
  store: MessageStore,
  replay: PluginReplay,
  config: HermodConfig,
  mailbox: Mailbox,
  entry: MailboxEntry,
  outcome: Outcome,
): Promise<void> {
  const raw = await store.getRaw(entry.sha256);
  if (!raw) {
    outcome.missing++;
    return;
  }
  const stored = await store.getLedger(entry.id);
  const { ledger } = await replay.run({
    raw,
    recipients: [{ address: entry.envelope.rcptTo || mailbox.address, mailbox }],
    mailFrom: entry.envelope.mailFrom,
    clientAddress: entry.envelope.clientAddress,
    auth: deliveredAuth(stored),
  });
  const line = lastClassifyLine(ledger);
  const previous = contributionOf(lastClassifyLine(stored));
  const junk = thresholdsFor(config.scoring, { address: mailbox.address, mailbox }).junkFolder;
  if (entry.folder === junk) outcome.keptInJunk++;
  const plan = line ? planReclassification(entry, previous, contributionOf(line), junk) : null;
  if (!plan || !line) {
    outcome.unchanged++;
    return;
  }
  await store.updateClassification(entry.id, { ...plan, note: { ...line, stage: 'reclassify' } });
  outcome.changed++;
  if (plan.folder !== undefined) outcome.moved++;
}

function printOutcome(mailbox: Mailbox, total: number, o: Outcome): void {
  const parts = [`${o.changed} changed (${o.moved} moved to another folder)`, `${o.unchanged} unchanged`];
  if (o.keptInJunk > 0) parts.push(`${o.keptInJunk} kept in Junk`);
  if (o.missing > 0) parts.push(`${o.missing} skipped (raw bytes missing)`);
  print(`reclassified ${total - o.missing} message(s) in ${mailbox.address}: ${parts.join(', ')}`);
}
