import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { spamStats } from '../../admin/spam-index.js';
import { InputError } from '../../errors.js';
import { thresholdsFor } from '../../pipeline/decision.js';
import type { MessageStore } from '../../store/message-store.js';
import { BAYES_GLOBAL_SCOPE, type BayesLabel, type Mailbox } from '../../store/types.js';
import { createCliLogger, loadCliConfig, withServices } from '../context.js';
import { findMailbox } from '../entries.js';
import { scanEntries } from '../../admin/entry-scan.js';
import { formatTable, print, printJson } from '../format.js';
import { startProgress } from '../progress.js';
import { learnEntries, tally, type LearnTally } from '../../admin/learn-tally.js';
import type { SpamLearner } from '../../admin/spam-learning.js';
import { junkMoves, ReportBuilder, type ReportRow } from '../spam-report.js';
import { checkAddress } from '../../admin/input-rules.js';
import { parseSince } from './message-reclassify.js';

interface TrainOptions {
  spam?: boolean;
  ham?: boolean;
  mailbox?: string;
  folder?: string;
}

interface StatsOptions {
  mailbox?: string;
  json?: boolean;
}

const TRAIN_HELP = `
Message files hold one message each (RFC 5322, as saved by a mail client or in a Maildir); a
leading mbox "From " line is skipped. Directories are read recursively, skipping dot files.
Files teach the global statistics; a mailbox folder teaches that mailbox's statistics (and the
global ones, unless the bayes plugin has mailbox.learnGlobal: false).

A message is counted once per label: learning it again changes nothing, learning it with the
other label moves its counts over.

Examples:
  hermod spam train --spam ~/corpus/spam/
  hermod spam train --ham saved-1.eml saved-2.eml
  hermod spam train --spam --mailbox alice@example.org --folder Junk`;

interface ReportOptions {
  mailbox?: string;
  since?: Date;
  json?: boolean;
}

const REPORT_HELP = `
Reads the moves users (or \`hermod message move\`) made: into the junk folder is spam the filter
let through (a false negative caught), out of it is wanted mail the filter junked (a false
positive caught). Counted per mailbox and ISO week of the move, beside the messages that arrived
that week. The junk folder is scoring.junkFolder or the mailbox's own (scoring.mailboxes).

Examples:
  hermod spam report
  hermod spam report --mailbox alice@example.org --since 2026-11-01 --json`;

/** Registers `hermod spam train | stats | report`. */
export function registerSpamCommands(program: Command): void {
  const spam = program.command('spam').description('the learning Bayesian spam filter: train it, see what it has learned, see how it does');
  registerTrain(spam);
  registerStats(spam);
  registerReport(spam);
}

function registerReport(spam: Command): void {
  spam
    .command('report')
    .description("what users' corrections say: false positives and negatives caught, per week and mailbox")
    .option('--mailbox <address>', 'only this mailbox (its address or an alias)')
    .option('--since <date>', 'only moves and arrivals on or after this date (UTC), e.g. 2026-11-01', parseSince)
    .option('--json', 'print JSON (an array of rows)')
    .addHelpText('after', REPORT_HELP)
    .action(async (opts: ReportOptions, cmd: Command) => {
      const address = opts.mailbox === undefined ? undefined : checkAddress(opts.mailbox, '--mailbox');
      const config = loadCliConfig(cmd);
      await withServices(config, async ({ store }) => {
        const mailboxes = address ? [await findMailbox(store, address)] : await store.listMailboxes();
        const report = new ReportBuilder(opts.since);
        for (const mailbox of mailboxes) {
          const junk = thresholdsFor(config.scoring, { address: mailbox.address, mailbox }).junkFolder;
          for (const entry of await scanEntries(store, { mailboxId: mailbox.id })) {
            report.add(entry, junkMoves(await store.getLedger(entry.id), entry.receivedAt, junk));
          }
        }
        printReport(report.result(), opts.json);
      });
    });
}

function printReport(rows: ReportRow[], json: boolean | undefined): void {
  if (json) return printJson(rows);
  if (rows.length === 0) return print('no messages and no moves in that time');
  const columns = [
    { header: 'mailbox' },
    { header: 'week' },
    { header: 'received', align: 'right' as const },
    { header: 'false negatives (into Junk)', align: 'right' as const },
    { header: 'false positives (out of Junk)', align: 'right' as const },
  ];
  print(formatTable(columns, rows.map((r) => [r.mailbox, r.week, String(r.received), String(r.falseNegatives), String(r.falsePositives)])));
}

function registerTrain(spam: Command): void {
  spam
    .command('train')
    .description('learn messages as spam or ham: message files or directories, or a mailbox folder')
    .argument('[paths...]', 'message files or directories of them')
    .option('--spam', 'learn the messages as spam')
    .option('--ham', 'learn the messages as ham (wanted mail)')
    .option('--mailbox <address>', 'learn the messages of this mailbox (with --folder)')
    .option('--folder <folder>', 'the folder of --mailbox to learn, e.g. Junk or INBOX')
    .addHelpText('after', TRAIN_HELP)
    .action(async (paths: string[], opts: TrainOptions, cmd: Command) => {
      const label = trainLabel(opts);
      const source = trainSource(paths, opts);
      const files = source.kind === 'files' ? collectMessageFiles(source.paths) : [];
      const config = loadCliConfig(cmd);
      const { SpamLearner } = await import('../../admin/spam-learning.js');
      await withServices(config, async ({ store }) => {
        const learner = await SpamLearner.open(config, store, createCliLogger());
        try {
          if (source.kind === 'files') await trainFiles(store, learner, files, label);
          else await trainFolder(store, learner, await findMailbox(store, source.mailbox), source.folder, label);
        } finally {
          await learner.close();
        }
      });
    });
}

function registerStats(spam: Command): void {
  spam
    .command('stats')
    .description('how many messages the filter has learned: globally, and for a mailbox')
    .option('--mailbox <address>', 'also show this mailbox\'s own statistics')
    .option('--json', 'print JSON')
    .action(async (opts: StatsOptions, cmd: Command) => {
      const address = opts.mailbox === undefined ? undefined : checkAddress(opts.mailbox, '--mailbox');
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        const stats = await spamStats(store, address ? await findMailbox(store, address) : undefined);
        if (opts.json) return printJson(stats);
        const rows = Object.entries(stats);
        const columns = [{ header: 'statistics' }, { header: 'spam', align: 'right' as const }, { header: 'ham', align: 'right' as const }];
        print(formatTable(columns, rows.map(([scope, t]) => [scope, String(t.spam), String(t.ham)])));
      });
    });
}

function trainLabel(opts: TrainOptions): BayesLabel {
  if (opts.spam && opts.ham) throw new InputError('give one of --spam or --ham, not both');
  if (!opts.spam && !opts.ham) throw new InputError('give --spam or --ham: what the messages are');
  return opts.spam ? 'spam' : 'ham';
}

type TrainSource = { kind: 'files'; paths: string[] } | { kind: 'folder'; mailbox: string; folder: string };

function trainSource(paths: string[], opts: TrainOptions): TrainSource {
  if (opts.mailbox !== undefined || opts.folder !== undefined) {
    if (paths.length > 0) throw new InputError(`give message files or --mailbox with --folder, not both (${paths[0]})`);
    if (opts.mailbox === undefined) throw new InputError('--folder needs --mailbox: whose folder to learn');
    if (opts.folder === undefined || opts.folder.trim() === '') {
      throw new InputError('--mailbox needs --folder: which folder to learn, e.g. Junk');
    }
    return { kind: 'folder', mailbox: checkAddress(opts.mailbox, '--mailbox'), folder: opts.folder };
  }
  if (paths.length === 0) throw new InputError('give message files or directories, or --mailbox A --folder F');
  return { kind: 'files', paths };
}

/** The message files named, directories walked (sorted, dot files skipped). */
export function collectMessageFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new InputError(`${path}: no such file or directory`);
    }
    if (!stat.isDirectory()) {
      files.push(path);
      continue;
    }
    const before = files.length;
    walk(path);
    if (files.length === before) throw new InputError(`${path}: no message files in this directory`);
  }
  return files;
}

/** The message without a leading mbox `From ` separator line, which is not a header. */
export function stripMboxFromLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
  const eol = raw.indexOf(0x0a);
  return eol < 0 ? raw : raw.subarray(eol + 1);
}

async function trainFiles(store: MessageStore, learner: SpamLearner, files: string[], label: BayesLabel): Promise<void> {
  const count: LearnTally = { learned: 0, relearned: 0, already: 0 };
  const progress = startProgress(`learning ${label}`, files.length);
  try {
    for (const file of files) {
      let raw: Buffer;
      try {
        raw = readFileSync(file);
      } catch (err) {
        throw new InputError(`${file}: cannot read: ${(err as Error).message}`);
      }
      tally(count, await learner.learn(stripMboxFromLine(raw), null, label));
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  printSummary(files.length, label, 'global', count);
  await printTotals(store, [[BAYES_GLOBAL_SCOPE, 'global']]);
}

async function trainFolder(
  store: MessageStore,
  learner: SpamLearner,
  mailbox: Mailbox,
  folder: string,
  label: BayesLabel,
): Promise<void> {
  const entries = await scanEntries(store, { mailboxId: mailbox.id, folder });
  if (entries.length === 0) throw new InputError(`--folder: no messages in ${mailbox.address} folder "${folder}"`);
  const progress = startProgress(`learning ${label}`, entries.length);
  let learned;
  try {
    learned = await learnEntries(store, learner, mailbox, entries, label, () => progress.tick());
  } finally {
    progress.stop();
  }
  const { count, missing } = learned;
  const scopes = learner.scopes(mailbox.id);
  const where = scopes.length > 1 ? `${mailbox.address} and global` : mailbox.address;
  printSummary(entries.length - missing, label, where, count);
  if (missing > 0) print(`skipped ${missing} message(s) whose raw bytes are missing`);
  await printTotals(store, scopes.map((s) => [s, s === BAYES_GLOBAL_SCOPE ? 'global' : mailbox.address]));
}

function printSummary(total: number, label: BayesLabel, where: string, count: LearnTally): void {
  const other = label === 'spam' ? 'ham' : 'spam';
  print(
    `learned ${total} message(s) as ${label} in ${where}: ${count.learned} new, ` +
      `${count.relearned} relearned (were ${other}), ${count.already} already learned as ${label}`,
  );
}

async function printTotals(store: MessageStore, scopes: [string, string][]): Promise<void> {
  for (const [scope, name] of scopes) {
    const totals = await store.bayesTotals(scope);
    print(`${name} now holds ${totals.spam} spam and ${totals.ham} ham`);
  }
}
