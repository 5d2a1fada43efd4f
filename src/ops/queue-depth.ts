import type { JobState, QueueJob } from '../queue/types.js';

/** Every job state, so each has a series (0 when empty) and a dashboard never shows "no data". */
export const JOB_STATES: readonly JobState[] = ['queued', 'deferred', 'active', 'held'];

/**
 * Destination domains given their own series; the rest are summed as `other`. Domains come from
 * recipients' addresses (anyone's input), so the label must stay bounded whatever is queued.
 */
export const TOP_DOMAINS = 10;

/** What /metrics reports about the outbound queue at one scrape. */
export interface QueueDepth {
  byState: Record<JobState, number>;
  /** At most TOP_DOMAINS domains (the busiest, by jobs) plus `other` when there are more. */
  byDomain: Map<string, number>;
  /** Seconds since the oldest job entered the queue; 0 for an empty queue. */
  oldestAgeSeconds: number;
}

/** Counts jobs by state and by destination domain, keeping the busiest domains apart. */
export function queueDepth(jobs: QueueJob[], now = Date.now()): QueueDepth {
  const byState = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  const domains = new Map<string, number>();
  let oldest = now;
  for (const job of jobs) {
    byState[job.state] += 1;
    domains.set(job.domain, (domains.get(job.domain) ?? 0) + 1);
    oldest = Math.min(oldest, job.createdAt);
  }
  const ranked = [...domains].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const byDomain = new Map(ranked.slice(0, TOP_DOMAINS));
  const rest = ranked.slice(TOP_DOMAINS).reduce((n, [, count]) => n + count, 0);
  if (rest > 0) byDomain.set('other', rest);
  return { byState, byDomain, oldestAgeSeconds: Math.max(0, (now - oldest) / 1000) };
}
