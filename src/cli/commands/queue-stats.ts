import type { Command } from 'commander';
import type { JobState, QueueJob } from '../../queue/types.js';
import { loadCliConfig } from '../context.js';
import { formatTable, print, printJson } from '../format.js';
import { formatAge, withQueue } from '../queue-context.js';
import { selectorFrom, selectorOptions, type SelectorOptions } from './queue-select.js';

/** qshape's age buckets, in minutes: 5, 10, 20, … 1280, then older. */
const BUCKETS = [5, 10, 20, 40, 80, 160, 320, 640, 1280];

/** Queue statistics: jobs by state, and by destination domain and age as Postfix's qshape shows. */
export interface QueueStats {
  total: number;
  recipients: number;
  states: Record<JobState, number>;
  oldestAgeMs: number | null;
  /** Column labels of `domains[].byAge`: "5m" … "1280m", "1280m+". */
  buckets: string[];
  domains: { domain: string; total: number; byAge: number[] }[];
}

/** Counts jobs by state and by domain × age bucket (minutes since queued), busiest domains first. */
export function queueStats(jobs: QueueJob[], now = Date.now()): QueueStats {
  const states: Record<JobState, number> = { queued: 0, deferred: 0, active: 0, held: 0 };
  const domains = new Map<string, number[]>();
  for (const job of jobs) {
    states[job.state] += 1;
    const minutes = (now - job.createdAt) / 60_000;
    const index = BUCKETS.findIndex((b) => minutes <= b);
    const row = domains.get(job.domain) ?? new Array<number>(BUCKETS.length + 1).fill(0);
    row[index < 0 ? BUCKETS.length : index] += 1;
    domains.set(job.domain, row);
  }
  return {
    total: jobs.length,
    recipients: jobs.reduce((n, j) => n + j.recipients.filter((r) => r.status === 'pending').length, 0),
    states,
    oldestAgeMs: jobs.length ? now - Math.min(...jobs.map((j) => j.createdAt)) : null,
    buckets: [...BUCKETS.map((b) => `${b}m`), `${BUCKETS[BUCKETS.length - 1]}m+`],
    domains: [...domains]
      .map(([domain, byAge]) => ({ domain, total: byAge.reduce((a, b) => a + b, 0), byAge }))
      .sort((a, b) => b.total - a.total || (a.domain < b.domain ? -1 : 1)),
  };
}

export function registerQueueStats(queue: Command): void {
  selectorOptions(queue.command('stats').description('jobs by state, and by destination domain and age (like qshape)'), false).action(
    async (opts: SelectorOptions, cmd: Command) => {
      const selector = selectorFrom([], opts, false);
      await withQueue(loadCliConfig(cmd), async ({ queue: q }) => {
        const stats = queueStats(await q.list(selector));
        if (opts.json) return printJson(stats);
        const states = Object.entries(stats.states).map(([s, n]) => `${s} ${n}`).join(', ');
        const oldest = stats.oldestAgeMs === null ? '-' : formatAge(stats.oldestAgeMs);
        print(`${stats.total} job(s), ${stats.recipients} pending recipient(s): ${states}; oldest ${oldest}\n`);
        const total = stats.buckets.map((_, i) => stats.domains.reduce((n, d) => n + d.byAge[i], 0));
        print(
          formatTable(
            [{ header: 'domain' }, { header: 't', align: 'right' }, ...stats.buckets.map((b) => ({ header: b, align: 'right' as const }))],
            [['TOTAL', String(stats.total), ...total.map(String)], ...stats.domains.map((d) => [d.domain, String(d.total), ...d.byAge.map(String)])],
          ),
        );
      });
    },
  );
}
