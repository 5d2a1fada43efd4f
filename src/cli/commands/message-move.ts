import type { Command } from 'commander';
import type { HermodConfig } from '../../config/schema.js';
import { InputError, NotFoundError } from '../../errors.js';
import { thresholdsFor } from '../../pipeline/decision.js';
import type { MessageStore } from '../../store/message-store.js';
import type { BayesLabel, BayesLearnResult, LedgerLine, Mailbox, MailboxEntry } from '../../store/types.js';
import { loadCliConfig, withServices } from '../context.js';
import { print } from '../format.js';

interface MoveOptions {
  /** commander's `--no-learn` sets this false. */
  learn: boolean;
}

/** The tag the scorer gives mail it files into Junk; a move keeps it in step with the folder. */
const SPAM_TAG = 'spam';

const MOVE_HELP = `
Moving a message into the junk folder (scoring.junkFolder, default Junk, or the mailbox's own
from scoring.mailboxes) teaches the Bayesian
filter that it is spam; moving it out of the junk folder teaches that it is ham, unlearning the
spam lesson first. A message is learned at most once per label, so moving it back and forth
does not pile up counts. Moves between other folders teach nothing.

Examples:
  hermod message move 01J9Z3K4QY3V6S8T2W1X0Y9Z8A Junk
  hermod message move 01J9Z3K4QY3V6S8T2W1X0Y9Z8A INBOX --no-learn`;

/** What a move between two folders teaches: into Junk spam, out of Junk ham, else nothing. */
export function moveLabel(from: string, to: string, junkFolder: string): BayesLabel | null {
  if (to === junkFolder && from !== junkFolder) return 'spam';
  if (from === junkFolder && to !== junkFolder) return 'ham';
  return null;
}

/** The folder argument, trimmed; empty or with control characters is a usage error. */
function checkFolderArgument(folder: string): string {
  const name = folder.trim();
  // eslint-disable-next-line no-control-regex
  if (name === '' || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new InputError(`invalid FOLDER "${folder}": give a folder name such as INBOX or Junk`);
  }
  return name;
}

/** Registers `hermod message move ID FOLDER`. */
export function registerMove(message: Command): void {
  message
    .command('move')
    .description('move a message to another folder; into or out of Junk this also teaches the spam filter')
    .argument('<id>', 'message id, as shown by message list or search')
    .argument('<folder>', 'the folder to move it to, e.g. Junk or INBOX')
    .option('--no-learn', 'only move; do not teach the Bayesian filter')
    .addHelpText('after', MOVE_HELP)
    .action(async (id: string, folder: string, opts: MoveOptions, cmd: Command) => {
      const target = checkFolderArgument(folder);
      const config = loadCliConfig(cmd);
      await withServices(config, async ({ store }) => {
        const entry = await store.getEntry(id);
        if (!entry) throw new NotFoundError(`unknown message id "${id}"`);
        if (entry.folder === target) return print(`message ${entry.id} is already in ${target}`);
        const mailbox = await store.resolveAddress(entry.mailboxAddress);
        if (!mailbox) throw new NotFoundError(`message ${entry.id}: mailbox ${entry.mailboxAddress} no longer exists`);
        // The junk folder may be the mailbox's own (scoring.mailboxes).
        const junk = thresholdsFor(config.scoring, { address: mailbox.address, mailbox }).junkFolder;
        const label = moveLabel(entry.folder, target, junk);
        const learned = label && opts.learn ? await learnFromMove(config, store, entry, mailbox, label) : '';
        await applyMove(store, entry, target, label, learned);
        print(`moved ${entry.id} from ${entry.folder} to ${target}${learned ? `; ${learned}` : ''}`);
      });
    });
}

/** Teaches the filter the message's new label; returns what happened, for the output and ledger. */
async function learnFromMove(
  config: HermodConfig,
  store: MessageStore,
  entry: MailboxEntry,
  mailbox: Mailbox,
  label: BayesLabel,
): Promise<string> {
  const raw = await store.getRaw(entry.sha256);
  if (!raw) throw new NotFoundError(`message ${entry.id}: raw bytes missing (sha256 ${entry.sha256}); use --no-learn`);
  const { SpamLearner } = await import('../spam-learning.js');
  const learner = await SpamLearner.open(config, store);
  try {
    return describeLearning(label, await learner.learn(raw, mailbox, label), mailbox.address);
  } finally {
    await learner.close();
  }
}

function describeLearning(label: BayesLabel, results: BayesLearnResult[], address: string): string {
  const where = results.map((r) => (r.scope === 'global' ? 'global' : address)).join(' and ');
  const first = results[0];
  if (!first || !first.changed) return `already learned as ${label}`;
  return first.previous ? `relearned as ${label} (was ${first.previous}) in ${where}` : `learned as ${label} in ${where}`;
}

/** Moves; a move into or out of Junk also sets or clears the spam tag, as the scorer would have. */
async function applyMove(
  store: MessageStore,
  entry: MailboxEntry,
  target: string,
  label: BayesLabel | null,
  learned: string,
): Promise<void> {
  const note: LedgerLine = {
    plugin: 'operator',
    stage: 'move',
    verdict: 'continue',
    score: 0,
    reason: `moved from ${entry.folder} to ${target}${learned ? `; ${learned}` : ''}`,
    durationMs: 0,
    // `at`: when the user corrected the filter, for `hermod spam report`.
    details: { from: entry.folder, to: target, learned: learned ? label : null, at: new Date().toISOString() },
  };
  if (label === null) {
    await store.moveEntry(entry.id, target, note);
    return;
  }
  const others = entry.tags.filter((t) => t !== SPAM_TAG);
  const tags = label === 'spam' ? [...others, SPAM_TAG].sort() : others;
  await store.updateClassification(entry.id, { tags, importance: entry.importance, folder: target, note });
}
