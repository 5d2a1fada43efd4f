import { z } from 'zod';
import { changeJobs, QUEUE_ACTIONS, queueStats, showJob, type QueueAccess } from '../../admin/queue-actions.js';
import { DURATION_HINT, durationMs } from '../../admin/input-rules.js';
import type { JobSelector, JobState } from '../../queue/types.js';
import { ApiError, badInput } from './api-error.js';
import { id, parseInput } from './input.js';
import type { ApiDeps, Route } from './router.js';

const STATES = ['queued', 'deferred', 'active', 'held'] as const;

const duration = z.string().transform((value, ctx) => {
  const ms = durationMs(value);
  if (ms !== null) return ms;
  ctx.addIssue({ code: 'custom', message: DURATION_HINT });
  return z.NEVER;
});

/** `queued,deferred` in a query string, or an array in a body. */
const states = z
  .union([z.string().transform((v) => v.split(',').map((s) => s.trim().toLowerCase())), z.array(z.string())])
  .pipe(z.array(z.enum(STATES)).min(1));

const ids = z.union([z.string().transform((v) => v.split(',').filter(Boolean)), z.array(z.string())]).pipe(z.array(id).max(10_000));

/** The selectors of the queue commands: ids, --domain, --sender, --older-than, --status. */
const filters = {
  ids: ids.optional(),
  domain: z.string().min(1).max(253).optional(),
  sender: z.string().max(320).optional(),
  olderThan: duration.optional(),
  status: states.optional(),
};
const listQuery = z.object(filters);
const changeBody = z.strictObject({ ...filters, all: z.boolean().default(false), dryRun: z.boolean().default(false) });
const actionParam = z.object({ action: z.enum(QUEUE_ACTIONS) });

function selectorOf(input: z.infer<typeof listQuery>): JobSelector {
  const selector: JobSelector = {
    ids: input.ids?.length ? input.ids : undefined,
    domain: input.domain,
    sender: input.sender,
    olderThanMs: input.olderThan,
    states: input.status as JobState[] | undefined,
  };
  return selector;
}

function access(deps: ApiDeps): QueueAccess {
  if (!deps.queue || !deps.outbound) throw new ApiError(503, 'HERMOD_QUEUE', 'the outbound queue is not running on this node');
  return { queue: deps.queue, outbound: deps.outbound, log: deps.log };
}

/** The outbound queue: the answers of `queue list|stats|show --json` and `queue ACTION --json`. */
export const queueRoutes: Route[] = [
  {
    method: 'GET',
    path: '/queue',
    scope: 'queue:read',
    handle: ({ deps, query }) => access(deps).queue.list(selectorOf(parseInput(listQuery, query))),
  },
  {
    method: 'GET',
    path: '/queue/stats',
    scope: 'queue:read',
    handle: async ({ deps, query }) => queueStats(await access(deps).queue.list(selectorOf(parseInput(listQuery, query)))),
  },
  {
    method: 'GET',
    path: '/queue/:id',
    scope: 'queue:read',
    handle: ({ deps, params }) => showJob(access(deps).queue, parseInput(z.object({ id }), params).id),
  },
  {
    method: 'POST',
    path: '/queue/:action',
    scope: 'queue:write',
    handle: async ({ deps, params, body }) => {
      const { action } = parseInput(actionParam, params);
      const input = parseInput(changeBody, body ?? {});
      const selector = selectorOf(input);
      if (!Object.values(selector).some((v) => v !== undefined) && !input.all) {
        throw badInput('all', 'name job ids or a filter (domain, sender, olderThan, status), or set all: true for every job');
      }
      return changeJobs(action, selector, input.dryRun, access(deps), deps.config);
    },
  },
];

