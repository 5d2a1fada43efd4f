import { describe, expect, it } from 'vitest';
import { queueDepth, TOP_DOMAINS } from '../../src/ops/queue-depth.js';
import { reasonClass } from '../../src/ops/reason-class.js';
import type { QueueJob } from '../../src/queue/types.js';

function job(domain: string, state: QueueJob['state'], createdAt: number): QueueJob {
  return {
    id: `${domain}.${createdAt}`, messageId: String(createdAt), domain, sender: 'a@example.test', recipients: [], state, attempts: 0,
    createdAt, nextAttemptAt: createdAt, lastAttemptAt: null, lastError: null, delayWarned: false, size: 10, local: false,
  };
}

describe('queue depth labels', () => {
  it('keeps the busiest domains apart and sums the rest as "other", whatever is queued', () => {
    const jobs: QueueJob[] = [];
    for (let d = 0; d < 25; d++) for (let n = 0; n <= d; n++) jobs.push(job(`d${String(d).padStart(2, '0')}.test`, 'deferred', 1000 + n));
    const depth = queueDepth(jobs, 61_000);
    expect(depth.byDomain.size).toBe(TOP_DOMAINS + 1);
    expect([...depth.byDomain.keys()].slice(0, 2)).toEqual(['d24.test', 'd23.test']);
    const kept = [...depth.byDomain].filter(([d]) => d !== 'other').reduce((n, [, c]) => n + c, 0);
    expect(depth.byDomain.get('other')).toBe(jobs.length - kept);
    expect(depth.byState).toEqual({ queued: 0, deferred: jobs.length, active: 0, held: 0 });
    expect(depth.oldestAgeSeconds).toBe(60);
  });

  it('reports every state at 0 and no domains for an empty queue', () => {
    expect(queueDepth([], 5)).toEqual({ byState: { queued: 0, deferred: 0, active: 0, held: 0 }, byDomain: new Map(), oldestAgeSeconds: 0 });
  });
});

describe('reason class of a reply', () => {
  it.each([
    [250, '250 2.0.0 Ok', 'ok'],
    [0, 'connect ECONNREFUSED 127.0.0.1:25', 'connection'],
    [550, '550 5.1.1 No such user', 'addressing'],
    [450, '450 4.2.0 Mailbox busy', 'mailbox'],
    [452, '452-4.3.1 Insufficient system storage', 'mail_system'],
    [421, '421 4.4.2 Timeout', 'network'],
    [554, '554 5.7.1 Rejected by policy', 'policy'],
    [550, '550 5.9.1 Odd subject', 'other'],
    [554, '554 Transaction failed', 'unclassified'],
    [451, `451 ${'4.'.repeat(50_000)}`, 'unclassified'],
  ])('%i %s → %s', (code, response, expected) => {
    expect(reasonClass(code, response)).toBe(expected);
  });
});
