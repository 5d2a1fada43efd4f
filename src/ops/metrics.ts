import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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

/** A source of current values, read when Prometheus scrapes (so nothing polls in between). */
export type GaugeSource = () => Promise<number>;

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
  private readonly unbuildableNotices: Counter<'reason'>;
  /** Outbound queue depth by state; set by the outbound queue (see setQueueDepthSource). */
  readonly queueDepth: Gauge<'state'>;
  private outboxSource: GaugeSource | undefined;
  private queueSource: (() => Promise<Record<string, number>>) | undefined;

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
    this.unbuildableNotices = this.counter(
      'hermod_outbound_notices_unbuildable_total',
      'Delivery status notifications (bounces, warnings) that could not be built, by reason',
      ['reason'],
    );
    this.queueDepth = this.sourcedGauges();
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
  }

  storeCall(operation: string, ok: boolean, seconds: number): void {
    this.storeSeconds.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  indexCall(operation: string, ok: boolean, seconds: number): void {
    this.indexSeconds.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  lookup = (map: string, result: string, seconds: number): void => {
    this.lookupSeconds.observe({ map, result }, seconds);
  };

  /** Where the outbox lag is read from at scrape time (the store's outboxLength). */
  setOutboxSource(source: GaugeSource): void {
    this.outboxSource = source;
  }

  /** For the outbound queue, once it exists: jobs per state (waiting, active, delayed, failed …). */
  setQueueDepthSource(source: () => Promise<Record<string, number>>): void {
    this.queueSource = source;
  }

  /** The gauges read at scrape time; returns the queue depth family. */
  private sourcedGauges(): Gauge<'state'> {
    const registers = [this.registry];
    const outbox = () => this.outboxSource;
    const queue = () => this.queueSource;
    new Gauge({
      name: 'hermod_outbox_lag_items',
      help: 'Store outbox items not yet applied to the search index',
      registers,
      async collect() {
        const source = outbox();
        if (source) this.set(await source());
      },
    });
    return new Gauge({
      name: 'hermod_queue_depth',
      help: 'Outbound queue jobs by state (no series until an outbound queue is configured)',
      labelNames: ['state'],
      registers,
      async collect() {
        const source = queue();
        if (!source) return;
        for (const [state, depth] of Object.entries(await source())) this.set({ state }, depth);
      },
    });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }
}
