import type { Command } from 'commander';
import { changeJobs, showJob, type QueueAction } from '../../admin/queue-actions.js';
import type { QueueJob } from '../../queue/types.js';
import { loadCliConfig } from '../context.js';
import { cleanText } from '../../admin/input-rules.js';
import { formatDate, formatFields, formatSize, formatTable, print, printJson } from '../format.js';
import { formatAge, withQueue } from '../queue-context.js';
import { registerQueueStats } from './queue-stats.js';
import { requireKnownIds, selectorFrom, selectorOptions, type SelectorOptions } from './queue-select.js';
import { checkJobId } from '../../admin/input-rules.js';

/** Registers `hermod queue list | show | retry | hold | release | bounce | delete | stats`. */
export function registerQueueCommands(program: Command): void {
  const queue = program
    .command('queue')
    .description('inspect and manage the outbound queue (like postqueue/postsuper)')
    .addHelpText(
      'after',
      '\nJobs are one message to one destination domain; ids are JOB ids (MESSAGE.N) or MESSAGE ids.\n' +
        'Examples:\n  hermod queue list --status deferred --domain example.com\n  hermod queue retry --domain example.com\n' +
        '  hermod queue hold --sender spammer@example.org --dry-run\n  hermod queue delete --older-than 3d --status held\n  hermod queue stats',
    );
  registerList(queue);
  registerShow(queue);
  for (const [name, description] of CHANGES) registerChange(queue, name, description);
  registerQueueStats(queue);
}

function registerList(queue: Command): void {
  selectorOptions(queue.command('list').description('list queued jobs, oldest first').argument('[ids...]', 'job or message ids'), false).action(
    async (ids: string[], opts: SelectorOptions, cmd: Command) => {
      const selector = selectorFrom(ids, opts, false);
      await withQueue(loadCliConfig(cmd), async ({ queue: q }) => {
        await requireKnownIds(q, selector);
        const jobs = await q.list(selector);
        if (opts.json) return printJson(jobs);
        if (jobs.length === 0) return print('queue is empty (no job matches)');
        print(jobTable(jobs, Date.now()));
      });
    },
  );
}

function jobTable(jobs: QueueJob[], now: number): string {
  return formatTable(
    [{ header: 'id' }, { header: 'state' }, { header: 'age', align: 'right' }, { header: 'size', align: 'right' }, { header: 'sender', maxWidth: 40 },
      { header: 'domain' }, { header: 'rcpt', align: 'right' }, { header: 'tries', align: 'right' }, { header: 'next' }, { header: 'last error', maxWidth: 60 }],
    jobs.map((j) => [
      j.id,
      j.state,
      formatAge(now - j.createdAt),
      formatSize(j.size),
      j.sender || '<>',
      j.domain,
      `${j.recipients.filter((r) => r.status === 'pending').length}/${j.recipients.length}`,
      String(j.attempts),
      j.state === 'deferred' ? formatDate(new Date(j.nextAttemptAt)) : '-',
      j.lastError ?? '-',
    ]),
  );
}

function registerShow(queue: Command): void {
  queue
    .command('show')
    .description('show one job: envelope, each recipient\'s last reply, and the message headers')
    .argument('<id>', 'job id (MESSAGE.N)')
    .option('--json', 'print JSON (the job with a `headers` field)')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const jobId = checkJobId(id, 'job id');
      await withQueue(loadCliConfig(cmd), async ({ queue: q }) => {
        const view = await showJob(q, jobId);
        const { headers, ...job } = view;
        if (opts.json) return printJson(view);
        print(describeJob(job) + '\n' + formatTable(
          [{ header: 'recipient' }, { header: 'status' }, { header: 'last reply', maxWidth: 80 }, { header: 'remote mta' }],
          job.recipients.map((r) => [r.address, r.status, r.lastResponse ?? '-', r.remoteMta ?? '-']),
        ) + '\n' + headers.split(/\r?\n/).map(cleanText).join('\n'));
      });
    });
}

function describeJob(job: QueueJob): string {
  return formatFields([
    ['id', job.id],
    ['message', job.messageId],
    ['state', job.state],
    ['sender', job.sender || '<>'],
    ['domain', `${job.domain}${job.local ? ' (local)' : ''}`],
    ['size', formatSize(job.size)],
    ['queued', formatDate(new Date(job.createdAt))],
    ['attempts', String(job.attempts)],
    ['last attempt', job.lastAttemptAt ? formatDate(new Date(job.lastAttemptAt)) : '-'],
    ['next attempt', job.state === 'deferred' ? formatDate(new Date(job.nextAttemptAt)) : '-'],
    ['last error', job.lastError ?? '-'],
    ['delay warned', job.delayWarned ? 'yes' : 'no'],
  ]);
}

const CHANGES: [QueueAction, string][] = [
  ['retry', 'make deferred or held jobs due now (postqueue -f / postsuper -r)'],
  ['hold', 'put jobs on hold: never tried until released (postsuper -h)'],
  ['release', 'release held jobs, due now (postsuper -H)'],
  ['bounce', 'give up on jobs now: the sender gets a bounce for every pending recipient'],
  ['delete', 'remove jobs silently, no bounce (postsuper -d)'],
];

function registerChange(queue: Command, name: QueueAction, description: string): void {
  selectorOptions(queue.command(name).description(description).argument('[ids...]', 'job or message ids'), true).action(
    async (ids: string[], opts: SelectorOptions, cmd: Command) => {
      const selector = selectorFrom(ids, opts, true);
      const config = loadCliConfig(cmd);
      await withQueue(config, async (services) => {
        await requireKnownIds(services.queue, selector);
        const change = await changeJobs(name, selector, !!opts.dryRun, services, config);
        const changed = change.jobs;
        if (opts.json) return printJson(change);
        const verb = opts.dryRun ? `would ${name}` : `${name}:`;
        print(changed.length === 0 ? `no job to ${name}` : `${verb} ${changed.length} job(s)\n${changed.join('\n')}`);
      });
    },
  );
}
