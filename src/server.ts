import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { builtinPlugins } from '../plugins/index.js';
import type { HermodConfig } from './config/schema.js';
import { closePlugins, loadPlugins, type LoadedPlugin } from './pipeline/registry.js';
import { MessageProcessor } from './pipeline/message-processor.js';
import { PluginRunner } from './pipeline/runner.js';
import { Listener } from './protocol/listener.js';
import { SessionHandler } from './protocol/session-handler.js';
import type { PeerInfo } from './protocol/session-state.js';
import { Indexer } from './search/indexer.js';
import { openServices, type HermodServices } from './services.js';

/** A started Hermod: its services, where it listens, and how to stop it gracefully. */
export interface RunningServer {
  services: HermodServices;
  lmtp?: AddressInfo;
  smtp?: AddressInfo;
  /** Stop accepting, finish transactions in flight, stop the indexer, close plugins and stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Print the "listening on … / send a first message" banner to stderr. @defaultValue true */
  banner?: boolean;
}

/** Starts the listeners, the plugin chain and the indexer on the configured backends. */
export async function startServer(config: HermodConfig, log: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const services = await openServices(config, log);
  let plugins: LoadedPlugin[] = [];
  const listeners: Listener[] = [];
  const indexer = new Indexer({
    store: services.store,
    index: services.search,
    log: log.child({ component: 'indexer' }),
    batchSize: config.search.batchSize,
    pollMs: config.search.pollMs,
  });
  try {
    plugins = await loadPlugins(config.plugins, builtinPlugins, { log, hostname: config.hostname });
    const runner = new PluginRunner(plugins, log);
    const processor = new MessageProcessor({ runner, store: services.store, config, log });
    const running: RunningServer = { services, close: async () => undefined };
    for (const kind of ['lmtp', 'smtp'] as const) {
      if (!config[kind].enabled) continue;
      const peers = new Map<string, PeerInfo>();
      const handler = new SessionHandler({ listener: kind, config, store: services.store, runner, processor, log, peers });
      const listener = new Listener({ kind, host: config[kind].host, port: config[kind].port, config, handler, peers, log });
      running[kind] = await listener.listen();
      listeners.push(listener);
    }
    indexer.start();
    running.close = once(() => shutdown(listeners, indexer, plugins, services, log));
    if (options.banner !== false) printBanner(running);
    log.info({ lmtp: running.lmtp, smtp: running.smtp }, 'hermod started');
    return running;
  } catch (err) {
    await shutdown(listeners, indexer, plugins, services, log);
    throw err;
  }
}

async function shutdown(
  listeners: Listener[],
  indexer: Indexer,
  plugins: LoadedPlugin[],
  services: HermodServices,
  log: Logger,
): Promise<void> {
  log.info('hermod stopping: draining transactions in flight');
  await Promise.all(listeners.map((l) => l.close()));
  await indexer.stop();
  await closePlugins(plugins, log);
  await services.close();
  log.info('hermod stopped');
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => (promise ??= fn());
}

function printBanner(server: RunningServer): void {
  const lines = ['Hermod is running.'];
  if (server.lmtp) lines.push(`  LMTP listening on ${server.lmtp.address}:${server.lmtp.port}`);
  if (server.smtp) lines.push(`  SMTP listening on ${server.smtp.address}:${server.smtp.port}`);
  const port = server.smtp?.port ?? server.lmtp?.port;
  lines.push(
    '',
    'Send a first message (swaks is in Debian: apt-get install swaks):',
    '  npx hermod domain add example.test',
    '  npx hermod mailbox add alice@example.test',
    server.smtp
      ? `  swaks --server ${server.smtp.address} --port ${port} --to alice@example.test`
      : `  swaks --protocol LMTP --server ${server.lmtp?.address} --port ${port} --to alice@example.test`,
    '  npx hermod message list --mailbox alice@example.test',
    '',
  );
  process.stderr.write(lines.join('\n') + '\n');
}
