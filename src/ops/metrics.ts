import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueJob } from '../queue/types.js';
import type { InboundOutcome, InboundReason } from './inbound-outcome.js';
import type { ReasonClass } from './reason-class.js';
import { registerScrapeGauges, type GaugeSource, type ReadinessSource, type ScrapeSources } from './scrape-gauges.js';

export type { GaugeSource } from './scrape-gauges.js';

/** Which listener a connection or transaction belongs to. */
export type ListenerKind = 'lmtp' | 'smtp';

/**
 * How a DATA transaction ended, from its replies: every recipient stored (`delivered`), every
 * recipient refused permanently (`rejected`) or temporarily (`deferred`), a mix (`partial`), the
 * message over the size limit (`too_big`), or processing threw (`failed`).
 */
export type TransactionOutcome = 'delivered' | 'partial' | 'deferred' | 'rejected' | 'too_big' | 'failed';

/** One recipient's result: `accepted` at RCPT, `stored` or `duplicate` after DATA, or refused. */
export type RecipientResult = 'accepted' | 'stored' | 'duplicate' | 'deferred' | 'rejected';

/** How a submission AUTH attempt ended (tls_required: refused before STARTTLS; error: lookup failed). */
export type AuthResult = 'success' | 'failure' | 'throttled' | 'tls_required' | 'error';

/** What became of one outbound recipient in one attempt. */
export type OutboundOutcome = 'delivered' | 'deferred' | 'bounced' | 'expired';

/** Latency buckets in seconds: from a fast SQLite read to a slow remote write or plugin. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Hermod's Prometheus metrics, in one registry per process. The core reports through the small
 * methods below (optional hooks: a component without a Metrics object reports nothing), so it
 * never depends on prom-client itself. Metric and label names are stable: dashboards use them.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly connections: Counter<'listener'>;
  private readonly activeConnections: Gauge<'listener'>;
  private readonly transactions: Counter<'listener' | 'outcome'>;
  private readonly transactionSeconds: Histogram<'listener'>;
  private readonly recipients: Counter<'listener' | 'stage' | 'result'>;
  private readonly pluginSeconds: Histogram<'plugin' | 'stage' | 'verdict'>;
  private readonly storeSeconds: Histogram<'operation' | 'result'>;
  private readonly indexSeconds: Histogram<'operation' | 'result'>;
  private readonly lookupSeconds: Histogram<'map' | 'result'>;
  private readonly pluginVerdicts: Counter<'plugin' | 'stage' | 'verdict'>;
  private readonly storeErrors: Counter<'operation'>;
  private readonly indexErrors: Counter<'operation'>;
  private readonly authAttempts: Counter<'result'>;
  private readonly receivedBytes: Counter<'listener'>;
  private readonly storedBytes: Counter;
  private readonly outboundRecipients: Counter<'outcome' | 'reason' | 'destination'>;
  private readonly outboundAttempts: Counter<'outcome' | 'destination'>;
  private readonly inboundRecipients: Counter<'listener' | 'outcome' | 'reason'>;
  private readonly unbuildableNotices: Counter<'reason'>;
  private readonly sources: ScrapeSources = {};

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.connections = this.counter('hermod_connections_total', 'Connections accepted, by listener', ['listener']);
    this.activeConnections = new Gauge({
      name: 'hermod_connections_active',
      help: 'Open SMTP/LMTP sessions, by listener',
      labelNames: ['listener'],
      registers,
    });
    this.transactions = this.counter(
      'hermod_transactions_total',
      'DATA transactions by outcome (delivered, partial, deferred, rejected, too_big, failed)',
      ['listener', 'outcome'],
    );
    this.transactionSeconds = this.histogram(
      'hermod_transaction_duration_seconds',
      'From the end of DATA to the replies: plugins, scoring and durable store writes',
      ['listener'],
    );
    this.recipients = this.counter(
      'hermod_recipients_total',
      'Recipients by stage (rcpt: at RCPT TO, data: after DATA) and result (accepted, stored, duplicate, deferred, rejected)',
      ['listener', 'stage', 'result'],
    );
    this.pluginSeconds = this.histogram(
      'hermod_plugin_duration_seconds',
      'Plugin hook latency by plugin, stage and verdict (error: the hook threw or timed out)',
      ['plugin', 'stage', 'verdict'],
    );
    this.storeSeconds = this.histogram(
      'hermod_store_duration_seconds',
      'Message store call latency by operation and result',
      ['operation', 'result'],
    );
    this.indexSeconds = this.histogram(
      'hermod_index_duration_seconds',
      'Search index call latency by operation and result',
      ['operation', 'result'],
    );
    this.lookupSeconds = this.histogram(
      'hermod_lookup_duration_seconds',
      'Postfix socketmap lookups by map and result (found, notfound, temp, perm)',
      ['map', 'result'],
    );
    this.pluginVerdicts = this.counter('hermod_plugin_verdicts_total', 'Plugin hook verdicts by plugin, stage and verdict', ['plugin', 'stage', 'verdict']);
    this.storeErrors = this.counter('hermod_store_errors_total', 'Message store calls that failed, by operation', ['operation']);
    this.indexErrors = this.counter('hermod_index_errors_total', 'Search index calls that failed, by operation', ['operation']);
    this.authAttempts = this.counter(
      'hermod_auth_attempts_total',
      'Submission AUTH attempts by result (success, failure, throttled, tls_required, error)',
      ['result'],
    );
    this.receivedBytes = this.counter('hermod_received_bytes_total', 'Message bytes received and run through the pipeline, by listener', ['listener']);
    this.storedBytes = this.counter('hermod_stored_bytes_total', 'Message bytes written to mailboxes (new entries; duplicates not counted)', []);
    this.outboundRecipients = this.counter(
      'hermod_outbound_recipients_total',
      'Outbound recipients per attempt by outcome (delivered, deferred, bounced, expired), reason class of the reply and destination (local, remote)',
      ['outcome', 'reason', 'destination'],
    );
    this.outboundAttempts = this.counter(
      'hermod_outbound_attempts_total',
      'Outbound delivery attempts by outcome (completed, deferred, expired) and destination (local, remote)',
      ['outcome', 'destination'],
    );
    this.inboundRecipients = this.counter(
      'hermod_inbound_recipients_total',
      'Inbound recipients after DATA by outcome (delivered, deferred, rejected, discarded) and reason (ok, duplicate, policy, spam, quota, store_error)',
      ['listener', 'outcome', 'reason'],
    );
    this.unbuildableNotices = this.counter(
      'hermod_outbound_notices_unbuildable_total',
      'Delivery status notifications (bounces, warnings, success notices) that could not be built or queued, by reason',
      ['reason'],
    );
    registerScrapeGauges(this.registry, this.sources);
  }

  /** A bounce or warning that could not be built (e.g. a sender without a domain): it is lost. */
  unbuildableNotice(reason: string): void {
    this.unbuildableNotices.inc({ reason });
  }

  /** Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  connectionOpened(listener: ListenerKind): void {
    this.connections.inc({ listener });
    this.activeConnections.inc({ listener });
  }

  connectionClosed(listener: ListenerKind): void {
    this.activeConnections.dec({ listener });
  }

  /** One recipient's result, by reply code: at RCPT (accepted or refused) or after DATA. */
  recipient(listener: ListenerKind, stage: 'rcpt' | 'data', result: RecipientResult): void {
    this.recipients.inc({ listener, stage, result });
  }

  transaction(listener: ListenerKind, outcome: TransactionOutcome, seconds: number): void {
    this.transactions.inc({ listener, outcome });
    this.transactionSeconds.observe({ listener }, seconds);
  }

  pluginCall(plugin: string, stage: string, verdict: string, seconds: number): void {
    this.pluginSeconds.observe({ plugin, stage, verdict }, seconds);
    this.pluginVerdicts.inc({ plugin, stage, verdict });
  }

  storeCall(operation: string, ok: boolean, seconds: number): void {
    this.storeSeconds.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
    if (!ok) this.storeErrors.inc({ operation });
  }

  indexCall(operation: string, ok: boolean, seconds: number): void {
    this.indexSeconds.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
    if (!ok) this.indexErrors.inc({ operation });
  }

  auth(result: AuthResult): void {
    this.authAttempts.inc({ result });
  }

  received(listener: ListenerKind, bytes: number): void {
    this.receivedBytes.inc({ listener }, bytes);
  }

  stored(bytes: number): void {
    this.storedBytes.inc(bytes);
  }

  outboundRecipient(outcome: OutboundOutcome, reason: ReasonClass, local: boolean): void {
    this.outboundRecipients.inc({ outcome, reason, destination: local ? 'local' : 'remote' });
  }

  inboundRecipient(listener: ListenerKind, outcome: InboundOutcome, reason: InboundReason): void {
    this.inboundRecipients.inc({ listener, outcome, reason });
  }

  outboundAttempt(outcome: 'completed' | 'deferred' | 'expired', local: boolean): void {
    this.outboundAttempts.inc({ outcome, destination: local ? 'local' : 'remote' });
  }

  lookup = (map: string, result: string, seconds: number): void => {
    this.lookupSeconds.observe({ map, result }, seconds);
  };

  /** Where the outbox lag is read from at scrape time (the store's outboxLength). */
  setOutboxSource(source: GaugeSource): void {
    this.sources.outbox = source;
  }

  /** Where the indexer lag in seconds is read from at scrape time. */
  setIndexLagSource(source: GaugeSource): void {
    this.sources.indexLag = source;
  }

  /** The outbound queue's jobs, listed at scrape time for hermod_queue_depth*. */
  setQueueSource(source: () => Promise<QueueJob[]>): void {
    this.sources.queue = source;
  }

  /** The readiness probes, run at scrape time for hermod_ready and hermod_readiness_check. */
  setReadinessSource(source: ReadinessSource): void {
    this.sources.readiness = source;
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }
}
