import { InvalidArgumentError, Option, type Command } from 'commander';
import { InputError, NotFoundError } from '../../errors.js';
import type { OutboundQueue } from '../../queue/outbound-queue.js';
import type { JobSelector, JobState } from '../../queue/types.js';
import { checkJobId } from '../../admin/input-rules.js';
import { parseDuration } from '../queue-context.js';

const STATES: JobState[] = ['queued', 'deferred', 'active', 'held'];

/** The selector flags every queue command shares. */
export interface SelectorOptions {
  domain?: string;
  sender?: string;
  olderThan?: number;
  status?: JobState[];
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function parseStates(text: string): JobState[] {
  const states = text.split(',').map((s) => s.trim().toLowerCase());
  const bad = states.find((s) => !STATES.includes(s as JobState));
  if (bad) throw new InvalidArgumentError(`unknown status "${bad}" (one of ${STATES.join(', ')})`);
  return states as JobState[];
}

/** Adds --domain, --sender, --older-than, --status (and --all, --dry-run for changes). */
export function selectorOptions(cmd: Command, changes: boolean): Command {
  cmd
    .option('--domain <domain>', 'only jobs to this destination domain')
    .option('--sender <address>', "only jobs from this envelope sender ('<>' for bounces)")
    .addOption(new Option('--older-than <age>', 'only jobs queued longer ago than this: 90s, 30m, 4h, 2d').argParser(parseDuration))
    .addOption(new Option('--status <states>', `only jobs in these states, comma-separated: ${STATES.join(', ')}`).argParser(parseStates));
  if (changes) {
    cmd
      .option('--all', 'select every job (required when no id or filter is given)')
      .option('--dry-run', 'show which jobs would change, change nothing');
  }
  return cmd.option('--json', 'print JSON instead of text');
}

/** The selector for ids and flags; a change with neither ids, filters nor --all is refused. */
export function selectorFrom(ids: string[], opts: SelectorOptions, changes: boolean): JobSelector {
  const selector: JobSelector = {
    ids: ids.length ? ids.map((id) => checkJobId(id, 'queue id')) : undefined,
    domain: opts.domain,
    sender: opts.sender,
    olderThanMs: opts.olderThan,
    states: opts.status,
  };
  const filtered = Object.values(selector).some((v) => v !== undefined);
  if (changes && !filtered && !opts.all) {
    throw new InputError('name job ids or a filter (--domain, --sender, --older-than, --status), or --all for every job');
  }
  return selector;
}

/**
 * Every id named must be a job or a queued message (filters aside): a typo or a job already gone
 * is an error naming it, and nothing changes, rather than "no job to retry" and exit 0.
 */
export async function requireKnownIds(queue: OutboundQueue, selector: JobSelector): Promise<void> {
  if (!selector.ids) return;
  const jobs = await queue.list({ ids: selector.ids });
  const known = new Set(jobs.flatMap((job) => [job.id, job.messageId]));
  const unknown = selector.ids.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new NotFoundError(`no queued job or message ${unknown.join(', ')} (see: hermod queue list)`);
}
