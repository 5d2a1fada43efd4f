import { z } from 'zod';
import { findMailbox } from '../../admin/directory.js';
import { moveMessage } from '../../admin/message-move.js';
import { getMessage, listMessages, messageLedger, searchMessages, showMessage } from '../../admin/messages.js';
import { withSpamFields } from '../../admin/spam-fields.js';
import { checkMessageId } from '../../admin/input-rules.js';
import { deleteMessages, mailboxFolders } from '../../message-admin.js';
import { badInput } from './api-error.js';
import { address, folder, id, parseInput, positiveInt } from './input.js';
import type { Route } from './router.js';

const listQuery = z.object({
  mailbox: address,
  folder: folder.optional(),
  limit: positiveInt.default(50),
  before: id.optional(),
});
const searchQuery = z.object({ mailbox: address, q: z.string().min(1).max(4096), limit: positiveInt.default(50) });
const moveBody = z.strictObject({ folder, learn: z.boolean().default(true) });
const idParam = z.object({ id });
const deleteBody = z.strictObject({ ids: z.array(z.string().max(200)).min(1).max(1000), dryRun: z.boolean().default(false) });

/** Message ids as the CLI checks them (26-character ULIDs, upper-cased). */
function messageIds(ids: string[]): string[] {
  return ids.map((value, i) => {
    try {
      return checkMessageId(value, 'message id');
    } catch (err) {
      throw badInput(`ids.${i}`, (err as Error).message);
    }
  });
}

/** Messages, folders and search: the answers of `message list|show|delete --json`, `message show --ledger --json`, `mailbox folders --json`, `search --json`. */
export const messageRoutes: Route[] = [
  {
    method: 'GET',
    path: '/messages',
    scope: 'messages:read',
    handle: async ({ deps, query }) => {
      const q = parseInput(listQuery, query);
      const mailbox = await findMailbox(deps.store, q.mailbox, 'mailbox');
      // As `message list --json`: each entry with its spam score and Bayes verdict.
      return withSpamFields(deps.store, await listMessages(deps.store, { mailboxId: mailbox.id, folder: q.folder, limit: q.limit, before: q.before }));
    },
  },
  {
    method: 'GET',
    path: '/messages/:id',
    scope: 'messages:read',
    handle: async ({ deps, params }) => showMessage(deps.store, await getMessage(deps.store, parseInput(idParam, params).id)),
  },
  {
    method: 'GET',
    path: '/messages/:id/ledger',
    scope: 'messages:read',
    handle: ({ deps, params }) => messageLedger(deps.store, parseInput(idParam, params).id),
  },
  {
    method: 'POST',
    path: '/messages/:id/move',
    scope: 'messages:write',
    handle: async ({ deps, params, body }) => {
      const input = parseInput(moveBody, body);
      return moveMessage(deps.config, deps.store, deps.log, { id: parseInput(idParam, params).id, ...input });
    },
  },
  {
    method: 'POST',
    path: '/messages/delete',
    scope: 'messages:write',
    handle: async ({ deps, body }) => {
      const input = parseInput(deleteBody, body);
      return deleteMessages({ store: deps.store, search: deps.search, log: deps.log }, messageIds(input.ids), { dryRun: input.dryRun });
    },
  },
  {
    method: 'GET',
    path: '/mailboxes/:address/folders',
    scope: 'messages:read',
    handle: ({ deps, params }) => mailboxFolders(deps.store, parseInput(z.object({ address }), params).address),
  },
  {
    method: 'GET',
    path: '/search',
    scope: 'messages:read',
    handle: async ({ deps, query }) => {
      const q = parseInput(searchQuery, query);
      const { parseSearchQuery } = await import('../../search/query-parser.js');
      try {
        parseSearchQuery(q.q);
      } catch (err) {
        throw badInput('q', (err as Error).message);
      }
      const mailbox = await findMailbox(deps.store, q.mailbox, 'mailbox');
      return searchMessages(deps.store, deps.search, mailbox.id, q.q, q.limit);
    },
  },
];
