import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { builtinPlugins } from '../plugins/index.js';
import type { HermodConfig } from './config/schema.js';
import { closePlugins, loadPlugins, type LoadedPlugin } from './pipeline/registry.js';
import { PluginRunner } from './pipeline/runner.js';
import { Listener } from './protocol/listener.js';
import { openIntake } from './protocol/data-intake.js';
import { SessionHandler } from './protocol/session-handler.js';
import type { PeerInfo } from './protocol/session-state.js';
import { ContentHandoff } from './search/content-handoff.js';
import { Indexer } from './search/indexer.js';
import type { RunningLookup } from './lookup/start-lookup.js';
import { instrumentSearch, instrumentStore, instrumentTransactions, observeOutbound } from './ops/instrument.js';
import type { RunningOps } from './ops/start-ops.js';
import { openServices, type HermodServices } from './services.js';
import { startOutbound, type RunningOutbound } from './queue/start-outbound.js';
import { QueuedSuccessNotices } from './queue/success-notices.js';
import { TransactionCore } from './transaction/transaction-core.js';

/** A started Hermod: its services, where it listens, and how to stop it gracefully. */
export interface RunningServer {
  services: HermodServices;
  lmtp?: AddressInfo;
  smtp?: AddressInfo;
  /** The Postfix socketmap service, when lookup.enabled. */
  lookup?: AddressInfo;
  /** The ops HTTP endpoint (/healthz, /readyz, /metrics), when ops.enabled. */
  ops?: AddressInfo;
  /** The submission listener (STARTTLS), when submission.enabled; its implicit-TLS port beside it. */
  submission?: AddressInfo;
  submissionTls?: AddressInfo;
  /** The outbound queue, its way in and the delivery worker. */
  outbound?: RunningOutbound;
  /** DATA bytes in flight now over every listener (limits.maxInflightBytes counts them). */
  inflightBytes?: () => number;
  /** Stop accepting, finish transactions in flight, stop the indexer, close plugins and stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  /**
   * Kept for callers that pass it; the banner is printed by `hermod serve` (src/cli/banner.ts),
   * which knows the config file. @defaultValue false
   */
  banner?: boolean;
}

/** Starts the listeners, the plugin chain and the indexer on the configured backends. */
export async function startServer(config: HermodConfig, log: Logger, _options: StartOptions = {}): Promise<RunningServer> {
  const services = await openServices(config, log);
  let plugins: LoadedPlugin[] = [];
  const listeners: Listener[] = [];
  // Metrics exist only for the ops endpoint; without it the core runs uninstrumented, and
  // prom-client is never loaded.
  const metrics = config.ops.enabled ? new (await import('./ops/metrics.js')).Metrics() : undefined;
  const store = metrics ? instrumentStore(services.store, metrics) : services.store;
  const search = metrics ? instrumentSearch(services.search, metrics) : services.search;
  const side: SideServices = {};
  // Content the parse plugin read at delivery goes straight to this process's indexer.
  const handoff = config.search.handoffBytes > 0 ? new ContentHandoff({ maxBytes: config.search.handoffBytes }) : undefined;
  const indexer = new Indexer({
    store,
    index: search,
    log: log.child({ component: 'indexer' }),
    batchSize: config.search.batchSize,
    pollMs: config.search.pollMs,
    handoff,
  });
  try {
    plugins = await loadPlugins(config.plugins, builtinPlugins, {
      log,
      hostname: config.hostname,
      dataDir: config.dataDir,
      store: services.store,
    });
    const runner = new PluginRunner(plugins, log, metrics);
    // NOTIFY=SUCCESS on the SMTP listener: "delivered" notices through the outbound queue, once it runs.
    const notices = new QueuedSuccessNotices(() => side.outbound?.service, config.hostname, log, metrics);
    const transactions = new TransactionCore({ directory: store, entries: store, runner, config, log, notices, searchContent: handoff });
    const running: RunningServer = { services, close: async () => undefined };
    const intake = await openIntake(config, log);
    running.inflightBytes = () => intake.budget.bytes;
    for (const kind of ['lmtp', 'smtp'] as const) {
      if (!config[kind].enabled) continue;
      const peers = new Map<string, PeerInfo>();
      // Only the listeners' messages count as received; local delivery from the queue is not counted again.
      const counted = metrics ? instrumentTransactions(transactions, metrics) : transactions;
      const handler = new SessionHandler({ listener: kind, config, transactions: counted, log, peers, metrics, ...intake });
      const listener = new Listener({ kind, host: config[kind].host, port: config[kind].port, config, handler, peers, log });
      running[kind] = await listener.listen();
      listeners.push(listener);
    }
    // The side services are imported only when enabled: what the config does not use stays unloaded.
    if (config.lookup.enabled) side.lookup = await (await import('./lookup/start-lookup.js')).startLookup(config, store, log, metrics);
    side.outbound = running.outbound = await startOutbound({ config, store, transactions, log, counter: metrics });
    if (metrics) observeOutbound(side.outbound.worker, metrics);
    if (config.ops.enabled) {
      const { startOps } = await import('./ops/start-ops.js');
      side.ops = await startOps(config, { store, search, metrics, log, queue: side.outbound.queue, outbound: side.outbound.service });
    }
    running.lookup = side.lookup?.address;
    running.ops = side.ops?.address;
    const submission = config.submission.enabled
      ? await (await import('./protocol/start-submission.js')).startSubmission(config, store, () => side.outbound!.service, log, intake.budget, metrics)
      : undefined;
    listeners.push(...(submission?.listeners ?? []));
    running.submission = submission?.address;
    running.submissionTls = submission?.implicitTls;
    indexer.start();
    running.close = once(() => shutdown(listeners, indexer, plugins, services, log, side));
    log.info({ lmtp: running.lmtp, smtp: running.smtp, submission: running.submission, lookup: running.lookup, ops: running.ops }, 'hermod started');
    return running;
  } catch (err) {
    await shutdown(listeners, indexer, plugins, services, log, side);
    throw err;
  }
}

async function shutdown(
  listeners: Listener[],
  indexer: Indexer,
  plugins: LoadedPlugin[],
  services: HermodServices,
  log: Logger,
  side: SideServices,
): Promise<void> {
  log.info('hermod stopping: draining transactions in flight');
  // Readiness goes first so load balancers stop sending; lookups move to the other nodes.
  side.ops?.server.setDraining();
  await side.lookup?.server.close();
  await Promise.all(listeners.map((l) => l.close()));
  await side.outbound?.close();
  await indexer.stop();
  await closePlugins(plugins, log);
  await services.close();
  await side.ops?.server.close();
  log.info('hermod stopped');
}

/** The services beside the mail listeners, each present when enabled. */
interface SideServices {
  lookup?: RunningLookup;
  ops?: RunningOps;
  outbound?: RunningOutbound;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= fn());
}
