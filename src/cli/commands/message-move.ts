import type { Command } from 'commander';
import { checkFolderName, moveMessage } from '../../admin/message-move.js';
import { createCliLogger, loadCliConfig, withServices } from '../context.js';
import { print } from '../format.js';
import { checkMessageId } from '../../admin/input-rules.js';

interface MoveOptions {
  /** commander's `--no-learn` sets this false. */
  learn: boolean;
}

const MOVE_HELP = `
Moving a message into the junk folder (scoring.junkFolder, default Junk, or the mailbox's own
from scoring.mailboxes) teaches the Bayesian
filter that it is spam; moving it out of the junk folder teaches that it is ham, unlearning the
spam lesson first. A message is learned at most once per label, so moving it back and forth
does not pile up counts. Moves between other folders teach nothing.

Examples:
  hermod message move 01J9Z3K4QY3V6S8T2W1X0Y9Z8A Junk
  hermod message move 01J9Z3K4QY3V6S8T2W1X0Y9Z8A INBOX --no-learn`;

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
      const target = checkFolderName(folder);
      const entryId = checkMessageId(id, 'message id');
      const config = loadCliConfig(cmd);
      await withServices(config, async ({ store }) => {
        const r = await moveMessage(config, store, createCliLogger(), { id: entryId, folder: target, learn: opts.learn });
        if (!r.moved) return print(`message ${r.id} is already in ${r.to}`);
        print(`moved ${r.id} from ${r.from} to ${r.to}${r.learned ? `; ${r.learned}` : ''}`);
      });
    });
}
