import type { Command } from 'commander';
import { queueStats } from '../../admin/queue-actions.js';
import { loadCliConfig } from '../context.js';
import { formatTable, print, printJson } from '../format.js';
import { formatAge, withQueue } from '../queue-context.js';
import { selectorFrom, selectorOptions, type SelectorOptions } from './queue-select.js';

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
