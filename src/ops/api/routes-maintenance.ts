import { z } from 'zod';
import { findMailbox } from '../../admin/directory.js';
import { spamStats, verifyIndex } from '../../admin/spam-index.js';
import { fileCheckpoint } from '../../admin/file-checkpoint.js';
import { learnEntries } from '../../admin/learn-tally.js';
import { scanEntries } from '../../admin/entry-scan.js';
import type { ReindexCheckpoint } from '../../search/reindexer.js';
import { BAYES_GLOBAL_SCOPE, type Mailbox } from '../../store/types.js';
import { badInput } from './api-error.js';
import { address, folder, parseInput } from './input.js';
import type { ApiDeps, Route } from './router.js';

const mailboxQuery = z.object({ mailbox: address.optional() });
const trainBody = z.strictObject({ label: z.enum(['spam', 'ham']), mailbox: address, folder });
const reindexBody = z
  .strictObject({
    mailbox: address.optional(),
    all: z.boolean().default(false),
    batchSize: z.number().int().min(1).max(10_000).default(200),
    restart: z.boolean().default(false),
  })
  .refine((b) => (b.mailbox === undefined) === b.all, { message: 'give mailbox or all: true (one of them)', path: ['mailbox'] });

async function optionalMailbox(deps: ApiDeps, query: Record<string, string>): Promise<Mailbox | undefined> {
  const { mailbox } = parseInput(mailboxQuery, query);
  return mailbox === undefined ? undefined : findMailbox(deps.store, mailbox, 'mailbox');
}

/** Teaches the filter a mailbox folder, as `spam train --mailbox A --folder F` does. */
async function trainFolder(deps: ApiDeps, input: z.infer<typeof trainBody>) {
  const mailbox = await findMailbox(deps.store, input.mailbox, 'mailbox');
  const entries = await scanEntries(deps.store, { mailboxId: mailbox.id, folder: input.folder });
  if (entries.length === 0) throw badInput('folder', `no messages in ${mailbox.address} folder "${input.folder}"`);
  const { SpamLearner } = await import('../../admin/spam-learning.js');
  const learner = await SpamLearner.open(deps.config, deps.store, deps.log);
  let result;
  try {
    result = await learnEntries(deps.store, learner, mailbox, entries, input.label);
  } finally {
    await learner.close();
  }
  const totals = Object.fromEntries(
    await Promise.all(learner.scopes(mailbox.id).map(async (s) => [s === BAYES_GLOBAL_SCOPE ? 'global' : mailbox.address, await deps.store.bayesTotals(s)])),
  );
  const { count, missing } = result;
  return { label: input.label, mailbox: mailbox.address, folder: input.folder, messages: entries.length - missing, ...count, missing, totals };
}

/** Rebuilds the index like `hermod reindex --json`, sharing its checkpoint files under dataDir. */
async function reindex(deps: ApiDeps, input: z.infer<typeof reindexBody>) {
  const { Reindexer, startingCheckpoint } = await import('../../search/reindexer.js');
  const mailboxes = input.mailbox ? [await findMailbox(deps.store, input.mailbox, 'mailbox')] : await deps.store.listMailboxes();
  const scope = input.all ? 'all' : `mailbox:${mailboxes[0].id}`;
  const checkpoints = fileCheckpoint<ReindexCheckpoint>(deps.config.dataDir, `reindex-${scope}`);
  if (input.restart) checkpoints.clear();
  startingCheckpoint(checkpoints, scope);
  const reindexer = new Reindexer({ store: deps.store, index: deps.search, log: deps.log, mailboxes, all: input.all, checkpoints, batchSize: input.batchSize });
  return { ...(await reindexer.run(scope)), mailboxes: mailboxes.length };
}

/** Spam filter and search index upkeep: `spam stats|train`, `index verify`, `reindex`. */
export const maintenanceRoutes: Route[] = [
  {
    method: 'GET',
    path: '/spam/stats',
    scope: 'spam:read',
    handle: async ({ deps, query }) => spamStats(deps.store, await optionalMailbox(deps, query)),
  },
  { method: 'POST', path: '/spam/train', scope: 'spam:write', handle: ({ deps, body }) => trainFolder(deps, parseInput(trainBody, body)) },
  {
    method: 'GET',
    path: '/index/verify',
    scope: 'index:read',
    handle: async ({ deps, query }) => verifyIndex(deps.store, deps.search, await optionalMailbox(deps, query)),
  },
  { method: 'POST', path: '/index/reindex', scope: 'index:write', handle: ({ deps, body }) => reindex(deps, parseInput(reindexBody, body ?? {})) },
];
