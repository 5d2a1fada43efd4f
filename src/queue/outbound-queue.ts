import type { Deferral, JobSelector, Lease, NewOutboundMessage, QueueJob, SentRecord } from './types.js';

/**
 * The outbound queue contract every driver (SQLite, BullMQ) honours; test/queue/queue.contract.ts
 * proves it against each.
 *
 * - **Body once.** `enqueue` stores the raw message once per message (SQLite: a spool table;
 *   BullMQ: one Redis key), whatever the number of jobs; jobs carry only its id. The body goes
 *   away when the last job of the message is finished or removed.
 * - **One job per message and destination domain**, created together: all or none.
 * - **Claiming.** `claim` leases the due job (`queued`, or `deferred` whose time has come) that
 *   has waited longest, marks it `active` and hands out a token. A held job is never claimed.
 *   A lease not settled within `leaseMs` lapses and the job becomes claimable again (a worker
 *   that died mid-delivery does not lose mail; the peer may see the message twice, as with any
 *   MTA that loses a reply).
 * - **Renewing.** `renew` pushes a held lease's end to `leaseMs` from now; the worker renews while
 *   an attempt runs, so a slow peer never lets a second worker deliver the same job.
 * - **Settling.** With a valid lease: `complete` removes the job (every recipient final);
 *   `defer` stores per-recipient results, counts one attempt and schedules the next. Both take
 *   the notices (bounces, delay warnings) the attempt produced and queue them in the same durable
 *   step as the settlement, so a crash in between can neither lose a bounce nor send it twice.
 *   `postpone` puts the job back untouched (no attempt counted), e.g. when the destination's
 *   concurrency is used up. A stale token fails with QueueError code HERMOD_QUEUE_LEASE.
 * - **Recording.** `record` stores what the next hop replied, in one durable fenced write, right
 *   after the final reply and before any settlement step. A job claimed again with such a record
 *   (its holder died before settling) carries it in `job.sent`, and the worker settles it from
 *   the record without delivering again. Defer and complete clear it.
 * - **Admin** operations take job ids and return those they changed: `hold` (queued/deferred →
 *   held), `release` (held → queued, due now), `retryNow` (deferred/held → queued, due now),
 *   `remove` (any but active). An active job is left alone by all of them.
 * - Failures of the backend are QueueError (code HERMOD_QUEUE).
 */
export interface OutboundQueue {
  readonly driver: 'sqlite' | 'bullmq';
  init(): Promise<void>;
  close(): Promise<void>;

  enqueue(message: NewOutboundMessage): Promise<QueueJob[]>;
  /** The spooled body of a message, or null when no job refers to it any more. */
  readBody(messageId: string): Promise<Buffer | null>;

  claim(leaseMs: number, now?: number): Promise<Lease | null>;
  /** Extends the lease to `leaseMs` from now; QueueError HERMOD_QUEUE_LEASE when it is lost. */
  renew(lease: Lease, leaseMs: number): Promise<void>;
  /** Durably records the attempt's replies under the lease; HERMOD_QUEUE_LEASE when it is lost. */
  record(lease: Lease, sent: SentRecord): Promise<void>;
  complete(lease: Lease, notices?: NewOutboundMessage[]): Promise<void>;
  defer(lease: Lease, deferral: Deferral, notices?: NewOutboundMessage[]): Promise<void>;
  postpone(lease: Lease, until: number): Promise<void>;

  get(id: string): Promise<QueueJob | null>;
  /** Jobs matching the selector, oldest first. */
  list(selector?: JobSelector, now?: number): Promise<QueueJob[]>;
  hold(ids: string[]): Promise<string[]>;
  release(ids: string[]): Promise<string[]>;
  retryNow(ids: string[]): Promise<string[]>;
  remove(ids: string[]): Promise<string[]>;
}

/** True when the job matches every filter of the selector. */
export function matchesSelector(job: QueueJob, selector: JobSelector, now = Date.now()): boolean {
  if (selector.ids && !selector.ids.includes(job.id) && !selector.ids.includes(job.messageId)) return false;
  if (selector.domain !== undefined && job.domain !== selector.domain.toLowerCase()) return false;
  if (selector.sender !== undefined) {
    const wanted = selector.sender === '<>' ? '' : selector.sender.toLowerCase();
    if (job.sender.toLowerCase() !== wanted) return false;
  }
  if (selector.olderThanMs !== undefined && now - job.createdAt < selector.olderThanMs) return false;
  if (selector.states && !selector.states.includes(job.state)) return false;
  return true;
}

/** Orders jobs oldest first, then by id, the way `list` returns them. */
export function byAge(a: QueueJob, b: QueueJob): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
