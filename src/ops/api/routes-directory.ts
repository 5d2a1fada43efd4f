import { z } from 'zod';
import { findMailbox, listDomains, listMailboxes } from '../../admin/directory.js';
import { address, domain, parseInput } from './input.js';
import type { Route } from './router.js';

const mailboxQuery = z.object({ domain: domain.optional() });
const newDomain = z.strictObject({ name: domain });
const newMailbox = z.strictObject({
  address,
  aliases: z.array(address).max(100).default([]),
  /** Bytes; 0 = unlimited; default quota.defaultBytes. */
  quotaBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Domains and mailboxes: the answers of `domain list --json` and `mailbox list --json`. */
export const directoryRoutes: Route[] = [
  { method: 'GET', path: '/domains', scope: 'domains:read', handle: ({ deps }) => listDomains(deps.store) },
  {
    method: 'POST',
    path: '/domains',
    scope: 'domains:write',
    created: true,
    handle: async ({ deps, body }) => deps.store.addDomain(parseInput(newDomain, body).name),
  },
  {
    method: 'DELETE',
    path: '/domains/:name',
    scope: 'domains:write',
    handle: async ({ deps, params }) => {
      const name = parseInput(z.object({ name: domain }), params).name;
      await deps.store.removeDomain(name);
      return { removed: name };
    },
  },
  {
    method: 'GET',
    path: '/mailboxes',
    scope: 'mailboxes:read',
    handle: ({ deps, query }) => listMailboxes(deps.store, parseInput(mailboxQuery, query).domain),
  },
  {
    method: 'GET',
    path: '/mailboxes/:address',
    scope: 'mailboxes:read',
    handle: async ({ deps, params }) => {
      const mailbox = await findMailbox(deps.store, parseInput(z.object({ address }), params).address, 'address');
      return { ...mailbox, usedBytes: await deps.store.mailboxUsage(mailbox.id) };
    },
  },
  {
    method: 'POST',
    path: '/mailboxes',
    scope: 'mailboxes:write',
    created: true,
    handle: async ({ deps, body }) => {
      const input = parseInput(newMailbox, body);
      const quotaBytes = input.quotaBytes ?? deps.config.quota.defaultBytes;
      return deps.store.addMailbox({ address: input.address, aliases: input.aliases, quotaBytes });
    },
  },
  {
    method: 'DELETE',
    path: '/mailboxes/:address',
    scope: 'mailboxes:write',
    handle: async ({ deps, params }) => {
      const primary = parseInput(z.object({ address }), params).address;
      await deps.store.removeMailbox(primary);
      return { removed: primary };
    },
  },
];
