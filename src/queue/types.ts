import type { EnvelopeDsn, RecipientDsn } from '../mail/dsn-parameters.js';

/** Where a recipient of a job stands. */
export type RecipientStatus = 'pending' | 'delivered' | 'failed';

/** One recipient of a job, its DSN request (NOTIFY, ORCPT) and what the last attempt said about it. */
export interface JobRecipient extends RecipientDsn {
  address: string;
  status: RecipientStatus;
  /** The reply of the last attempt for this recipient, as the next hop sent it (code, enhanced code, text). */
  lastResponse?: string;
  /** Basic code of that reply; 0 for a connection fault. */
  lastCode?: number;
  /** The host that answered, e.g. `mx.example.com[192.0.2.1]`. */
  remoteMta?: string;
  /** True when the next hop took the message without DSN support, so no notice will follow from it. */
  relayed?: boolean;
}

/**
 * The state of a job as the queue reports it:
 * - `queued`: due now (new, released, or retried by the operator), waiting for a worker
 * - `deferred`: waiting for its next attempt after a temporary failure
 * - `active`: leased by a worker, an attempt is under way
 * - `held`: put aside by the operator; never tried until released
 */
export type JobState = 'queued' | 'deferred' | 'active' | 'held';

/** One message to one destination domain: the unit of delivery, retry and bounce. */
export interface QueueJob {
  /** `<messageId>.<n>`: stable, unique, no ':' (a BullMQ job id). */
  id: string;
  messageId: string;
  /** Destination domain, lower case. */
  domain: string;
  /** Envelope sender; '' is the null sender (bounces), which never gets a bounce. */
  sender: string;
  recipients: JobRecipient[];
  state: JobState;
  /** Delivery attempts made so far. */
  attempts: number;
  /** Epoch ms the message entered the queue. */
  createdAt: number;
  /** Epoch ms of the next attempt (for `queued` jobs: when they became due). */
  nextAttemptAt: number;
  /** Epoch ms of the last attempt, or null. */
  lastAttemptAt: number | null;
  /** Why the last attempt did not finish the job. */
  lastError: string | null;
  /** True once the sender was told that the message is delayed. */
  delayWarned: boolean;
  /** Message size in bytes. */
  size: number;
  /** The domain is one of ours: delivery goes through the inbound pipeline into the store. */
  local: boolean;
  /** The sender's RFC 3461 request (RET, ENVID), when it made one. */
  dsn?: EnvelopeDsn;
  /**
   * The replies of an attempt that got them but was not settled (its process stopped): the next
   * claim settles the job from this record instead of delivering again.
   */
  sent?: SentRecord;
}

/**
 * What an attempt heard from the next hop, recorded durably before anything else follows the
 * final reply. Written only under a valid lease; kept until the job is deferred or completed.
 */
export interface SentRecord {
  /** `attempts` of the job when the attempt ran: the record belongs to that attempt alone. */
  attempt: number;
  replies: { address: string; code: number; response: string }[];
  remoteMta?: string;
  policy?: string;
  /** The next hop took over DSN duties. */
  nextHopReports: boolean;
}

/** A message handed to the queue: the body is spooled once, one job per destination domain. */
export interface NewOutboundMessage {
  /** Assigned by the caller (a ULID), so the submission reply can name it. */
  messageId: string;
  sender: string;
  /** Recipients grouped by destination domain; each group becomes a job. */
  destinations: { domain: string; recipients: string[]; local: boolean }[];
  raw: Buffer;
  /** Epoch ms; defaults to now. */
  createdAt?: number;
  /** RET and ENVID from MAIL FROM. */
  dsn?: EnvelopeDsn;
  /** NOTIFY and ORCPT by recipient address (lower case). */
  recipientDsn?: Record<string, RecipientDsn>;
}

/** A job claimed by a worker. Only the worker holding the lease may renew or settle it. */
export interface Lease {
  job: QueueJob;
  /** Opaque to callers: the driver's lock token, new for every claim (it fences stale attempts). */
  token: string;
}

/** What the worker reports after an attempt that did not finish the job. */
export interface Deferral {
  recipients: JobRecipient[];
  nextAttemptAt: number;
  lastError: string;
  delayWarned: boolean;
}

/** Filters for listing and admin commands; all given filters must match. */
export interface JobSelector {
  ids?: string[];
  domain?: string;
  /** Envelope sender, exact (case-insensitive); '' or '<>' matches the null sender. */
  sender?: string;
  /** Only jobs older than this many ms (by createdAt). */
  olderThanMs?: number;
  states?: JobState[];
}

/** The recipients of a new job, all pending, each with the DSN request it came with. */
export function newRecipients(addresses: string[], dsn: NewOutboundMessage['recipientDsn']): JobRecipient[] {
  return addresses.map((address) => ({ address, status: 'pending' as const, ...(dsn?.[address.toLowerCase()] ?? {}) }));
}
