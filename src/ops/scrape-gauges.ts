import { Gauge, type Registry } from 'prom-client';
import type { QueueJob } from '../queue/types.js';
import { JOB_STATES, queueDepth } from './queue-depth.js';

/** A source of current values, read when Prometheus scrapes (so nothing polls in between). */
export type GaugeSource = () => Promise<number>;

/** The readiness probes as /readyz runs them: overall, and one result per check. */
export type ReadinessSource = () => Promise<{ ready: boolean; checks: Record<string, { ok: boolean }> }>;

/** Where the scrape-time gauges read from; each is set by the component that owns the data. */
export interface ScrapeSources {
  outbox?: GaugeSource;
  /** Seconds the index has been behind the store (0 when caught up). */
  indexLag?: GaugeSource;
  queue?: () => Promise<QueueJob[]>;
  readiness?: ReadinessSource;
}

/**
 * A source's value, or undefined when it failed: a backend that is down must not take the whole
 * /metrics answer with it (hermod_ready and hermod_readiness_check report the outage).
 */
async function read<T>(source: (() => Promise<T>) | undefined): Promise<T | undefined> {
  if (!source) return undefined;
  try {
    return await source();
  } catch {
    return undefined;
  }
}

/**
 * Registers the gauges whose values are read at scrape time from `sources`. A gauge whose source
 * is not set, or failed at this scrape, has no series (e.g. no queue before the outbound side
 * started, or the queue's Redis down).
 */
export function registerScrapeGauges(registry: Registry, sources: ScrapeSources): void {
  const registers = [registry];
  new Gauge({
    name: 'hermod_outbox_lag_items',
    help: 'Store outbox items not yet applied to the search index',
    registers,
    async collect() {
      this.reset();
      const value = await read(sources.outbox);
      if (value !== undefined) this.set(value);
    },
  });
  new Gauge({
    name: 'hermod_indexer_lag_seconds',
    help: 'How long the search index has been behind the store: seconds since the outbox was last seen empty (0 when caught up)',
    registers,
    async collect() {
      this.reset();
      const value = await read(sources.indexLag);
      if (value !== undefined) this.set(value);
    },
  });
  registerQueueGauges(registry, sources);
  registerReadinessGauges(registry, sources);
}

function registerQueueGauges(registry: Registry, sources: ScrapeSources): void {
  const registers = [registry];
  // The three families come from one listing per scrape; the first collector fetches it.
  let pending: Promise<ReturnType<typeof queueDepth> | undefined> | undefined;
  const depth = () => {
    pending ??= read(sources.queue)
      .then((jobs) => (jobs ? queueDepth(jobs) : undefined))
      .finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'hermod_queue_depth',
    help: 'Outbound queue jobs by state (queued, deferred, active, held)',
    labelNames: ['state'],
    registers,
    async collect() {
      const d = await depth();
      this.reset();
      if (d) for (const state of JOB_STATES) this.set({ state }, d.byState[state]);
    },
  });
  new Gauge({
    name: 'hermod_queue_depth_by_domain',
    help: 'Outbound queue jobs by destination domain: the 10 busiest, the rest as "other"',
    labelNames: ['domain'],
    registers,
    async collect() {
      const d = await depth();
      this.reset();
      if (d) for (const [domain, jobs] of d.byDomain) this.set({ domain }, jobs);
    },
  });
  new Gauge({
    name: 'hermod_queue_oldest_age_seconds',
    help: 'Age of the oldest job in the outbound queue (0 when empty)',
    registers,
    async collect() {
      const d = await depth();
      this.reset();
      if (d) this.set(d.oldestAgeSeconds);
    },
  });
}

function registerReadinessGauges(registry: Registry, sources: ScrapeSources): void {
  const registers = [registry];
  let pending: ReturnType<ReadinessSource> | undefined;
  const report = () => {
    if (!sources.readiness) return undefined;
    pending ??= sources.readiness().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'hermod_ready',
    help: '1 when /readyz would answer 200 (every check passed, not draining), else 0',
    registers,
    async collect() {
      const r = await report();
      if (r) this.set(r.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hermod_readiness_check',
    help: '1 when the named readiness check (store, search, queue) passed at this scrape, else 0',
    labelNames: ['check'],
    registers,
    async collect() {
      const r = await report();
      if (r) for (const [check, result] of Object.entries(r.checks)) this.set({ check }, result.ok ? 1 : 0);
    },
  });
}
