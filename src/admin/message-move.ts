import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { InputError, NotFoundError } from '../errors.js';
import { cleanText } from './input-rules.js';
import { thresholdsFor } from '../pipeline/decision.js';
import { checkFolder } from '../store/input-checks.js';
import type { MessageStore } from '../store/message-store.js';
import type { BayesLabel, BayesLearnResult, LedgerLine, Mailbox, MailboxEntry } from '../store/types.js';

/** The tag the scorer gives mail it files into Junk; a move keeps it in step with the folder. */
const SPAM_TAG = 'spam';

/** What a move did, as `POST /api/v1/messages/ID/move` answers and `message move` prints. */
export interface MoveResult {
  id: string;
  from: string;
  to: string;
  /** False when the message already was in the folder. */
  moved: boolean;
  /** What the Bayesian filter learned ("learned as spam in global and …"), or "". */
  learned: string;
}

/** What a move between two folders teaches: into Junk spam, out of Junk ham, else nothing. */
export function moveLabel(from: string, to: string, junkFolder: string): BayesLabel | null {
  if (to === junkFolder && from !== junkFolder) return 'spam';
  if (from === junkFolder && to !== junkFolder) return 'ham';
  return null;
}

/**
 * The folder name in its one spelling (INBOX in any case is INBOX), checked as the store checks
 * it; a bad name is an input error naming `field`.
 */
export function checkFolderName(folder: string, field = 'FOLDER'): string {
  try {
    return checkFolder(folder);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`invalid ${field} "${cleanText(folder)}": ${err.message.replace(/^folder: /, '')}`);
    throw err;
  }
}

/**
 * Moves a message to another folder; into or out of the junk folder (the mailbox's own, from
 * scoring.mailboxes, or scoring.junkFolder) it also teaches the Bayesian filter, unless `learn`
 * is false.
 */
export async function moveMessage(
  config: HermodConfig,
  store: MessageStore,
  log: Logger,
  request: { id: string; folder: string; learn: boolean },
): Promise<MoveResult> {
  const entry = await store.getEntry(request.id);
  if (!entry) throw new NotFoundError(`unknown message id "${request.id}"`);
  const target = request.folder;
  if (entry.folder === target) return { id: entry.id, from: entry.folder, to: target, moved: false, learned: '' };
  const mailbox = await store.resolveAddress(entry.mailboxAddress);
  if (!mailbox) throw new NotFoundError(`message ${entry.id}: mailbox ${entry.mailboxAddress} no longer exists`);
  const junk = thresholdsFor(config.scoring, { address: mailbox.address, mailbox }).junkFolder;
  const label = moveLabel(entry.folder, target, junk);
  const learned = label && request.learn ? await learnFromMove(config, store, log, entry, mailbox, label) : '';
  await applyMove(store, entry, target, label, learned);
  return { id: entry.id, from: entry.folder, to: target, moved: true, learned };
}

async function learnFromMove(
  config: HermodConfig,
  store: MessageStore,
  log: Logger,
  entry: MailboxEntry,
  mailbox: Mailbox,
  label: BayesLabel,
): Promise<string> {
  const raw = await store.getRaw(entry.sha256);
  if (!raw) throw new NotFoundError(`message ${entry.id}: raw bytes missing (sha256 ${entry.sha256}); use --no-learn`);
  const { SpamLearner } = await import('./spam-learning.js');
  const learner = await SpamLearner.open(config, store, log);
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
async function applyMove(store: MessageStore, entry: MailboxEntry, target: string, label: BayesLabel | null, learned: string): Promise<void> {
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
