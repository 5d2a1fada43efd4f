import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import type { OutboundService } from '../queue/outbound-service.js';
import type { SearchIndex } from '../search/search-index.js';
import type { MessageStore } from '../store/message-store.js';
import { AdminApi } from './api/admin-api.js';
import { TokenFile, tokenFilePath } from './api/tokens.js';
import type { Metrics } from './metrics.js';
import { OpsServer } from './ops-server.js';
import { coreChecks } from './readiness.js';

/** A started ops endpoint and where it listens. */
export interface RunningOps {
  server: OpsServer;
  address: AddressInfo;
  /** True when it speaks HTTPS (ops.tls). */
  tls: boolean;
}

/** What the ops endpoint reports on and, with the admin API, works on. */
export interface OpsDeps {
  store: MessageStore;
  search: SearchIndex;
  metrics?: Metrics;
  log: Logger;
  queue?: OutboundQueue;
  outbound?: OutboundService;
}

/** Starts the ops HTTP endpoint when `ops.enabled` (and metrics exist); undefined otherwise. */
export async function startOps(config: HermodConfig, deps: OpsDeps): Promise<RunningOps | undefined> {
  if (!config.ops.enabled || !deps.metrics) return undefined;
  const { queue } = deps;
  if (queue) deps.metrics.setQueueSource(() => queue.list());
  const tls = readTls(config);
  const log = deps.log.child({ component: 'ops' });
  const server = new OpsServer({
    host: config.ops.host,
    port: config.ops.port,
    metrics: deps.metrics,
    checks: coreChecks(deps.store, deps.search, queue),
    log,
    tls,
    api: adminApi(config, deps, log, tls !== undefined),
  });
  return { server, address: await server.listen(), tls: tls !== undefined };
}

/** The admin API when enabled; bearer tokens never cross a network in clear text. */
function adminApi(config: HermodConfig, deps: OpsDeps, log: Logger, tls: boolean): AdminApi | undefined {
  const api = config.ops.api;
  if (!api.enabled) return undefined;
  if (!tls && !isLoopback(config.ops.host)) {
    throw new ConfigError(`ops.api.enabled on ops.host ${config.ops.host} (not loopback) needs ops.tls.cert and ops.tls.key`);
  }
  const apiDeps = { config, store: deps.store, search: deps.search, queue: deps.queue, outbound: deps.outbound, log };
  return new AdminApi(apiDeps, new TokenFile(tokenFilePath(config)), api.maxBodyBytes);
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/** The certificate and key files, both or neither. */
function readTls(config: HermodConfig): { cert: Buffer; key: Buffer } | undefined {
  const { cert, key } = config.ops.tls;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new ConfigError(`ops.tls: set both cert and key (only ${cert ? 'cert' : 'key'} is set)`);
  const read = (file: string, name: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`ops.tls.${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return { cert: read(cert, 'cert'), key: read(key, 'key') };
}
